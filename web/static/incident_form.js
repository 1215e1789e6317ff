// The incident form (web/templates/_incident_form.html): types, kecamatan/kelurahan and agencies from the catalog;
// "Kirim ke OPD". Used by the call panel (newCall() pre-fills call id and number for each call) and by the hand
// entry page /kejadian/baru (no call: the form's own source, reporter and callback fields).
import {T, api, el} from "/static/live.js";
import {IncidentCameraPanel} from "/static/incident_cameras.js";

const form = document.getElementById("incident-form");
let catalog = null;
let currentCall = null;
let incidentId = null;
const cameras = new IncidentCameraPanel(document.getElementById("incident-cameras"));

function option(value, label) { const o = el("option", label); o.value = value; return o; }

function suggestAgencies() {
  const type = catalog.types.find((t) => t.code === form.type_code.value);
  const victims = Number(form.victims.value || 0);
  const wanted = new Set(type ? [...type.default_agencies, ...(victims > 0 ? type.agencies_if_victims : [])] : []);
  form.querySelectorAll("input[name=agency]").forEach((box) => { box.checked = wanted.has(box.value); });
  if (type) form.priority.value = String(type.default_priority);
}

function fillKelurahan() {
  const k = catalog.kecamatan.find((x) => x.name === form.kecamatan.value);
  form.kelurahan.replaceChildren(option("", T.choose), ...(k ? k.kelurahan.map((n) => option(n, n)) : []));
}

export async function setupIncidentForm() {
  catalog = await api("GET", "/api/v1/incident-catalog");
  form.type_code.replaceChildren(option("", T.choose), ...catalog.types.map((t) => option(t.code, t.name_id)));
  form.kecamatan.replaceChildren(option("", T.choose), ...catalog.kecamatan.map((k) => option(k.name, k.name)));
  const boxes = catalog.agencies.map((a) => {
    const label = el("label", null, "agency");
    const box = el("input"); box.type = "checkbox"; box.name = "agency"; box.value = a.code;
    label.append(box, document.createTextNode(" " + a.name));
    return label;
  });
  document.getElementById("agency-boxes").append(...boxes);
  form.type_code.addEventListener("change", suggestAgencies);
  form.victims.addEventListener("change", suggestAgencies);
  form.kecamatan.addEventListener("change", fillKelurahan);
  form.addEventListener("submit", dispatch);
  const another = document.getElementById("another-incident");  // hand entry only
  if (another) another.addEventListener("click", resetIncidentForm);
}

// An empty form again, for the next call or the next hand-entered report.
export function resetIncidentForm() {
  incidentId = null;
  form.reset();
  form.hidden = false;
  document.getElementById("incident-result").hidden = true;
  document.getElementById("incident-errors").replaceChildren();
  cameras.clear();
}

export function newCall(call) {
  if (currentCall && currentCall.id === call.id) return;
  currentCall = call;
  resetIncidentForm();
}

async function dispatch(event) {
  event.preventDefault();
  const data = Object.fromEntries(new FormData(form).entries());
  data.agencies = [...form.querySelectorAll("input[name=agency]:checked")].map((b) => b.value);
  delete data.agency;
  if (currentCall) Object.assign(data, {call_id: currentCall.id, callback_number: currentCall.caller_number});
  const errors = document.getElementById("incident-errors");
  errors.replaceChildren();
  try {
    const incident = await api("POST", "/api/v1/incidents", data);
    incidentId = incident.id;
    showIncident(incident);
  } catch (e) {
    const fields = e.body && e.body.fields ? Object.entries(e.body.fields) : [];
    errors.replaceChildren(el("div", e.message, "field-error"),
      ...fields.map(([name, f]) => el("div", `${name}: ${f.message}`, "field-error")));
  }
}

// The incident this form created, as it changes (live updates of other incidents are ignored).
export function showIncident(incident) {
  if (incidentId === null || incident.id !== incidentId) return;
  form.hidden = true;
  document.getElementById("incident-result").hidden = false;
  document.getElementById("incident-result").dataset.incidentId = incident.id;
  document.getElementById("incident-number").textContent = incident.number;
  document.getElementById("incident-tasks").replaceChildren(...incident.tasks.map((t) =>
    el("li", `${t.agency_name || t.agency}: ${T["task_" + t.state] || t.state}`)));
  cameras.show(incident);  // the nearest cameras, live (once per incident)
}
