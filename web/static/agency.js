// Agency operator: the agency's open incidents, a chime for a new task, Terima / Dalam perjalanan / Di lokasi / Selesai,
// and "Minta info tambahan": a question to the 112 room, whose answer appears on the card live.
import {T, api, connect, el} from "/static/live.js";
import {threadItem} from "/static/info_requests.js";
import {IncidentCameraPanel, cameraButton} from "/static/incident_cameras.js";
import {Pager, coalesce} from "/static/pager.js";

const NEXT = {dispatched: ["acknowledged"], acknowledged: ["en_route", "on_scene", "resolved"],
              en_route: ["on_scene", "resolved"], on_scene: ["resolved"]};
let agency = null;
let known = new Set();  // incidents already seen on some page
let lastTotal = null;  // the queue's total and page at the last look: a new task chimes, turning a page does not
let lastOffset = 0;
let threads = new Map();  // incident id -> this agency's questions on it, with their answers
const cameraPanel = new IncidentCameraPanel(document.getElementById("incident-cameras"));

function chime() {
  try {
    const ctx = new AudioContext();
    const osc = ctx.createOscillator();
    osc.frequency.value = 880;
    osc.connect(ctx.destination);
    osc.start();
    osc.stop(ctx.currentTime + 0.4);
  } catch (e) { /* no audio device: the visual alert remains */ }
}

function card(incident) {
  const box = el("article", null, "incident-card");
  box.dataset.priority = incident.priority;
  box.dataset.number = incident.number;
  box.append(el("h2", `${incident.number} · P${incident.priority} · ${incident.type_name || incident.type_code}`));
  box.append(el("p", [incident.kecamatan, incident.kelurahan, incident.location_text].filter(Boolean).join(", ")));
  box.append(el("p", incident.description));
  if (incident.callback_number) box.append(el("p", `${T.caller_number}: ${incident.callback_number}`));
  const tasks = el("ul");
  for (const task of incident.tasks) {
    const li = el("li", `${task.agency_name || task.agency}: ${T["task_" + task.state] || task.state}`);
    if (task.agency === agency) {
      li.dataset.own = "1";
      for (const next of NEXT[task.state] || []) {
        const b = el("button", T["task_" + next]);
        b.addEventListener("click", () =>
          api("POST", `/api/v1/incidents/${incident.id}/tasks/${agency}/${next}`, {}).then(load));
        li.append(" ", b);
      }
    }
    tasks.append(li);
  }
  box.append(tasks);
  const asked = threads.get(incident.id) || [];
  if (asked.length) {
    const thread = el("ul", null, "thread");
    thread.append(...asked.map(threadItem));
    box.append(el("h3", T.info_thread), thread);
  }
  const ask = el("button", T.info_ask, "ask-info");
  ask.addEventListener("click", () => openAsk(incident));
  box.append(ask, " ", cameraButton(incident, cameraPanel));
  return box;
}

const dialog = document.getElementById("ask-dialog");
const askForm = document.getElementById("ask-form");

function openAsk(incident) {
  askForm.dataset.incidentId = incident.id;
  document.getElementById("ask-title").textContent = `${T.info_ask}: ${incident.number}`;
  document.getElementById("ask-error").textContent = "";
  dialog.showModal();
}

askForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("POST", `/api/v1/incidents/${askForm.dataset.incidentId}/info-requests`, {text: askForm.text.value});
    askForm.reset();
    dialog.close();
    load();
  } catch (e) { document.getElementById("ask-error").textContent = e.message; }
});
document.getElementById("ask-cancel").addEventListener("click", () => dialog.close());

const pager = new Pager(document.getElementById("incidents-pages"), 10, () => load());

async function load() {
  const asked = pager.ask();
  const [queue, info] = await Promise.all([api("GET", `/api/v1/agency/queue?${asked.query}`),
                                           api("GET", "/api/v1/info-requests?state=all")]);
  if (!pager.update(queue, asked)) return;
  threads = new Map();
  for (const request of info.requests) threads.set(request.incident_id, [...(threads.get(request.incident_id) || []), request]);
  agency = queue.agency;
  document.getElementById("agency-name").textContent = queue.name;
  document.getElementById("empty").hidden = queue.total > 0;
  document.getElementById("incidents-count").textContent = queue.total ? `(${queue.total})` : "";
  const fresh = queue.incidents.filter((i) => !known.has(i.id));
  if (lastTotal !== null && (queue.total > lastTotal || (fresh.length && pager.offset === lastOffset))) chime();
  lastTotal = queue.total;
  lastOffset = pager.offset;
  for (const i of queue.incidents) known.add(i.id);
  document.getElementById("incidents").replaceChildren(...queue.incidents.map(card));
}

const soon = coalesce(load, 300);  // a burst of changes: read the page once for them
connect((m) => {
  if (m.type === "hello") load();
  else if (m.type === "incident" || m.type === "info_request") soon();
  else if (m.type === "escalation") {
    const alerts = document.getElementById("alerts");
    alerts.prepend(el("div", `${T.escalation}: ${m.number || ""}`, "banner"));
    while (alerts.children.length > 5) alerts.lastElementChild.remove();  // the newest few, not a wall
  } else if (m.type === "handoff") showHandoff(m);
});

// A call taker handed a caller over to this agency's duty phone: say so, and bring the call's incident forward.
function showHandoff(m) {
  const numbers = m.incidents.map((i) => i.number).join(", ");
  const banner = el("div", `${T.handoff_from_112}: ${m.caller_number || ""}${numbers ? " · " + numbers : ""}`, "banner handoff");
  document.getElementById("alerts").prepend(banner);
  for (const incident of m.incidents) {
    let shown = document.querySelector(`article[data-number="${CSS.escape(incident.number)}"]`);
    if (!shown) {  // not in this agency's queue (no task for it): show the record with the banner
      shown = card(incident);
      banner.after(shown);
    }
    shown.classList.add("handed-over");
    shown.scrollIntoView({block: "center"});
  }
}
