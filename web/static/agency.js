// Agency operator: the agency's open incidents, a chime for a new task, Terima / Dalam perjalanan / Di lokasi / Selesai.
import {T, api, connect, el} from "/static/live.js";

const NEXT = {dispatched: ["acknowledged"], acknowledged: ["en_route", "on_scene", "resolved"],
              en_route: ["on_scene", "resolved"], on_scene: ["resolved"]};
let agency = null;
let known = new Set();

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
  return box;
}

async function load() {
  const queue = await api("GET", "/api/v1/agency/queue");
  agency = queue.agency;
  document.getElementById("agency-name").textContent = queue.name;
  document.getElementById("empty").hidden = queue.incidents.length > 0;
  const fresh = queue.incidents.filter((i) => !known.has(i.id));
  if (known.size && fresh.length) chime();
  known = new Set(queue.incidents.map((i) => i.id));
  document.getElementById("incidents").replaceChildren(...queue.incidents.map(card));
}

connect((m) => {
  if (m.type === "hello" || m.type === "incident") load();
  else if (m.type === "escalation") {
    document.getElementById("alerts").append(el("div", `${T.escalation}: ${m.number || ""}`, "banner"));
  }
});
