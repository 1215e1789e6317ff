// The callback list: callers who hung up before they were answered, one item per number (with how many times it
// tried), most urgent deadline first, one page at a time with the totals, live.
// A call taker at a ready seat presses "Telepon balik": their phone rings, then the caller's (over the caller's carrier).
import {T, api, connect, el, mmss} from "/static/live.js";
import {Pager, coalesce} from "/static/pager.js";

const PAGE = 10;
const table = document.querySelector("#callbacks tbody");
const canCall = document.body.dataset.role === "call_taker";
let items = [];
const pager = new Pager(document.getElementById("callbacks-pages"), PAGE, () => load());

function deadlineText(item) {
  const left = item.deadline_epoch - Date.now() / 1000;
  return left >= 0 ? `${mmss(left)} ${T.left}` : `${mmss(-left)} ${T.overdue_by}`;
}

function row(item) {
  const tr = el("tr");
  tr.dataset.callbackId = item.id;
  tr.dataset.number = item.number;
  const outcome = item.last_outcome ? ` (${T["out_" + item.last_outcome] || item.last_outcome})` : "";
  tr.append(el("td", item.number), el("td", item.carrier), el("td", item.abandoned_calls, "count"),
            el("td", deadlineText(item), "deadline"), el("td", (T["cb_" + item.state] || item.state) + outcome),
            el("td", item.attempts));
  const cell = el("td");
  if (item.refusal) {
    cell.append(el("span", T["refusal_" + item.refusal] || item.refusal, "refusal"));  // the dial policy's reason
  } else if (canCall && item.state === "open") {
    const button = el("button", T.call_back);
    button.addEventListener("click", () => callBack(item.id, button));
    cell.append(button);
  }
  tr.append(cell);
  return tr;
}

function render() {
  table.replaceChildren(...items.map(row));
  tick();
}

// Deadlines count down in place: rows (and their buttons) are only replaced when the list changes, so a click
// never lands on a row that was just swapped out.
function tick() {
  const now = Date.now() / 1000;
  items.forEach((item, i) => {
    const tr = table.rows[i];
    if (!tr) return;
    tr.classList.toggle("late", item.deadline_epoch < now);
    tr.querySelector("td.deadline").textContent = deadlineText(item);
  });
}

function summary(data) {
  const c = data.counts || {};
  const parts = [`${data.total}`];
  if (c.overdue) parts.push(`${c.overdue} ${T.cb_overdue}`);
  if (c.dialing) parts.push(`${c.dialing} ${T.cb_dialing}`);
  document.getElementById("callbacks-count").textContent = data.total ? `(${parts.join(" · ")})` : "";
  document.getElementById("callbacks-empty").hidden = data.total > 0;
}

async function callBack(id, button) {
  const error = document.getElementById("callbacks-error");
  button.disabled = true;
  error.hidden = true;
  try {
    await api("POST", `/api/v1/callbacks/${id}/call`);
    load();
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
    button.disabled = false;
  }
}

async function load() {
  const asked = pager.ask();
  const data = await api("GET", `/api/v1/callbacks?${asked.query}`);
  if (!pager.update(data, asked)) return;  // a newer request renders, or it asked for the last page instead
  items = data.callbacks;
  summary(data);
  render();
}

const soon = coalesce(load, 300);  // a surge sends hundreds of changes: read the page once for them
connect((m) => {
  if (m.type === "hello") load();  // (re)connected: the list may have changed meanwhile
  else if (m.type === "callback") soon();
});
setInterval(tick, 1000);
