// The callback list: callers who hung up before they were answered, most urgent deadline first, live.
// A call taker at a ready seat presses "Telepon balik": their phone rings, then the caller's (over the caller's carrier).
import {T, api, connect, el, mmss} from "/static/live.js";

const table = document.querySelector("#callbacks tbody");
const canCall = document.body.dataset.role === "call_taker";
let items = new Map();

function deadlineText(item) {
  const left = item.deadline_epoch - Date.now() / 1000;
  return left >= 0 ? `${mmss(left)} ${T.left}` : `${mmss(-left)} ${T.overdue_by}`;
}

function row(item) {
  const tr = el("tr");
  tr.dataset.callbackId = item.id;
  tr.dataset.number = item.number;
  if (item.deadline_epoch < Date.now() / 1000) tr.className = "late";
  const outcome = item.last_outcome ? ` (${T["out_" + item.last_outcome] || item.last_outcome})` : "";
  tr.append(el("td", item.number), el("td", item.carrier), el("td", item.abandoned_calls),
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
  const open = [...items.values()].filter((i) => ["open", "dialing", "connected"].includes(i.state))
    .sort((a, b) => a.deadline_epoch - b.deadline_epoch);
  table.replaceChildren(...open.map(row));
  document.getElementById("callbacks-empty").hidden = open.length > 0;
  document.getElementById("callbacks-count").textContent = open.length ? `(${open.length})` : "";
}

async function callBack(id, button) {
  const error = document.getElementById("callbacks-error");
  button.disabled = true;
  error.hidden = true;
  try {
    const item = await api("POST", `/api/v1/callbacks/${id}/call`);
    items.set(item.id, item);
    render();
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
    button.disabled = false;
  }
}

async function load() {
  const data = await api("GET", "/api/v1/callbacks");
  items = new Map(data.callbacks.map((i) => [i.id, i]));
  render();
}

connect((m) => {
  if (m.type === "hello") load();  // (re)connected: the list may have changed meanwhile
  else if (m.type === "callback") { items.set(m.callback.id, m.callback); render(); }
});
setInterval(render, 1000);  // deadlines count down
