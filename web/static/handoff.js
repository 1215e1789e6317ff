// Warm hand-off in the call panel: bring an agency's duty phone into the call, then leave it to the agency.
import {T, api, connect, el} from "/static/live.js";

const pop = document.getElementById("pop");
const box = document.getElementById("handoff");
const dial = document.getElementById("handoff-dial");
const leave = document.getElementById("handoff-leave");
const status = document.getElementById("handoff-status");

const callId = () => pop.dataset.callId;

function follow() {  // the call panel's state decides whether a hand-off can be started
  const connected = pop.dataset.state === "connected";
  box.hidden = !connected && pop.dataset.state !== "transferred";
  dial.disabled = !connected;
  if (!connected) leave.disabled = true;
}
new MutationObserver(follow).observe(pop, {attributes: true, attributeFilter: ["data-state", "data-call-id"]});

async function post(path, body) {
  try { return await api("POST", `/api/v1/calls/${encodeURIComponent(callId())}/${path}`, body); }
  catch (e) { status.textContent = e.message; return null; }
}

dial.addEventListener("click", async () => {
  if (await post("handoff", {agency: document.getElementById("handoff-agency").value})) {
    status.textContent = T.handoff_dialing;
    dial.disabled = true;
  }
});
leave.addEventListener("click", async () => {
  if (await post("leave")) leave.disabled = true;
});

connect((m) => {
  if (m.type !== "CallAnnotated" || m.kind !== "handoff" || m.call_id !== callId()) return;
  const stage = m.data.stage;
  status.textContent = T["handoff_" + stage] || stage;
  leave.disabled = stage !== "joined";
  if (stage === "failed" || stage === "left") dial.disabled = pop.dataset.state !== "connected";
});
api("GET", "/api/v1/incident-catalog").then((catalog) => {
  const options = catalog.agencies.map((a) => { const o = el("option", a.name); o.value = a.code; return o; });
  document.getElementById("handoff-agency").replaceChildren(...options);
});
follow();
