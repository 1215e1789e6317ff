// Supervisor: live queue, active calls and seats; alert when a caller waits over 15 s or no seat is ready.
import {T, api, connect, el, mmss, refreshServiceLevel} from "/static/live.js";
import {IncidentCameraPanel, cameraButton} from "/static/incident_cameras.js";
import {infoRequests} from "/static/info_requests.js";
import {Pager, coalesce} from "/static/pager.js";
import {showSurge} from "/static/surge.js";

let room = null;
const escalations = [];  // agencies that missed their acknowledge deadline, newest last

const cameraPanel = new IncidentCameraPanel(document.getElementById("incident-cameras"));

const incidentPager = new Pager(document.getElementById("incidents-pages"), 10, () => loadIncidents());

async function loadIncidents() {
  const asked = incidentPager.ask();
  const data = await api("GET", `/api/v1/incidents?${asked.query}`);
  if (!incidentPager.update(data, asked)) return;
  document.getElementById("incidents-count").textContent = data.total ? `(${data.total})` : "";
  document.querySelector("#open-incidents tbody").replaceChildren(...data.incidents.map((i) => {
    const camerasCell = el("td");
    camerasCell.append(cameraButton(i, cameraPanel));
    return row([i.number, i.type_name, `P${i.priority}`, i.kecamatan,
                i.tasks.map((t) => `${t.agency_name}: ${T["task_" + t.state] || t.state}`).join(" · "), camerasCell]);
  }));
}
let fetchedAt = 0;

function row(cells) {
  const tr = document.createElement("tr");
  for (const cell of cells) tr.append(cell instanceof Node ? cell : el("td", cell));
  return tr;
}

function render() {
  if (!room) return;
  const age = (Date.now() - fetchedAt) / 1000;
  const waiting = room.waiting.map((c) => row([c.position, c.caller_number, c.caller_name, c.carrier, `${Math.floor(c.waiting_s + age)} ${T.seconds}`]));
  document.querySelector("#waiting tbody").replaceChildren(...waiting);
  const total = room.waiting_total ?? room.waiting.length;
  document.getElementById("waiting-count").textContent = total;
  const more = document.getElementById("waiting-more");
  more.hidden = total <= room.waiting.length;
  more.textContent = `+ ${total - room.waiting.length} ${T.more_waiting}`;
  showSurge(room, age);
  const stateText = (c) => c.state === "offered" ? T.state_offered
    : c.state === "transferred" ? `${T.state_transferred}: ${(c.agency || "").toUpperCase()}`
    : T.state_busy + (c.agency ? ` + ${c.agency.toUpperCase()}` : "");
  const active = room.active.map((c) => row([c.caller_number, c.carrier, stateText(c), c.seat, mmss(c.waiting_s + age)]));
  document.querySelector("#active tbody").replaceChildren(...active);
  const seats = room.seats.filter((s) => s.registered || s.user || s.state !== "offline").map((s) => {
    const actions = el("td");
    for (const [verb, label, body] of [["pause", T.pause, {reason: "break"}], ["sign-out", T.sign_out, {}]]) {
      const b = el("button", label);
      b.addEventListener("click", () => api("POST", `/api/v1/seats/${encodeURIComponent(s.id)}/${verb}`, body).then(load));
      actions.append(b);
    }
    const failing = s.phone_failures ? ` · ${T.phone_failing}: ${s.phone_failures} ${T.phone_failures}` : "";
    const state = (T[`state_${s.state}`] || s.state) + (s.reason ? ` (${T[s.reason] || s.reason})` : "") + failing;
    const tr = row([s.id, state, s.in_state_s === null ? "" : mmss(s.in_state_s + age), s.user || "", s.registered ? T.yes : T.no, actions]);
    tr.dataset.state = s.state;
    return tr;
  });
  document.querySelector("#seats tbody").replaceChildren(...seats);
  const alerts = [];
  if (total && (room.oldest_wait_s ?? 0) + age > 15) alerts.push(el("div", T.alert_wait, "banner amber"));
  if (!room.seats.some((s) => s.state === "available")) alerts.push(el("div", T.alert_no_seat, "banner"));
  document.getElementById("alerts").replaceChildren(...escalations, ...alerts);
}

async function load() {
  room = await api("GET", "/api/v1/room");
  fetchedAt = Date.now();
  render();
}

const soon = coalesce(load, 250);  // many events arrive together: fetch the room once for them
const soonIncidents = coalesce(() => loadIncidents(), 300);

setInterval(render, 1000);
connect((m) => {
  infoRequests(m);  // the agencies' requests for more information, unanswered first
  if (m.type === "hello" && m.room) { load(); loadIncidents(); }
  else if (m.type === "escalation") {
    escalations.push(el("div", `${T.escalation}: ${m.agency_name || m.agency} · ${m.number || ""}`, "banner escalation"));
    escalations.splice(0, Math.max(0, escalations.length - 8));
    render();
    soonIncidents();
  } else if (m.type === "duty_call") {  // the agency's duty phone was called and nobody pressed 1
    escalations.push(el("div", `${T.duty_call}: ${m.agency_name || m.agency} · ${T["duty_" + m.outcome] || m.outcome} (${m.attempt})`,
                        "banner escalation"));
    escalations.splice(0, Math.max(0, escalations.length - 8));  // the newest few, not an ever-growing wall
    render();
  } else if (m.type === "incident") soonIncidents();
  else if (m.type !== "info_request") soon();
});

refreshServiceLevel("/supervisor");
