// Call taker: seat controls, screen-pop on ring, call panel with timer and disposition buttons.
import {T, api, connect, el, mmss} from "/static/live.js";
import {newCall, setupIncidentForm, showIncident} from "/static/incident_form.js";
import {infoRequests} from "/static/info_requests.js";
import {prankBadge} from "/static/prank_badge.js";

const $ = (id) => document.getElementById(id);
let seat = null;     // our seat id
let call = null;     // the call on our screen: {id, ..., offeredAt, connectedAt}

function showSeat(view) {
  $("seat-choice").hidden = !!view;
  $("seat-bar").hidden = !view;
  if (!view) return;
  seat = view.id;
  $("seat-id").textContent = view.id;
  const label = T[`state_${view.state}`] || view.state;
  $("seat-state").textContent = view.reason ? `${label} (${T[view.reason] || view.reason})` : label;
  $("seat-state").dataset.state = view.state;
}

// The room tells us when our phone refused or dropped a call (SeatPhoneFailed): the caller went to another seat.
function showPhoneFailed(m) {
  const then = m.paused ? T.phone_paused : `${T.phone_retry} ${m.retry_s} ${T.seconds}`;
  $("phone-failed").textContent = `${T.phone_failed} (${T[`phone_${m.kind}`] || m.kind}, ${m.failures} ${T.phone_failures}): ${T.phone_passed_on}; ${then}`;
  $("phone-failed").hidden = false;
}

function showCall(view, state) {
  newCall(view);
  call = {...view, shownAt: Date.now() - (view.waiting_s || 0) * 1000, connectedAt: null};
  $("pop").hidden = false;
  $("pop").dataset.callId = view.id;
  $("pop-number").textContent = view.caller_number;
  $("pop-carrier").textContent = view.carrier;
  $("pop-name").textContent = view.caller_name || "";
  $("pop-wait").textContent = `${T.waiting_for} ${view.waiting_s} ${T.seconds}`;
  $("pop-history").replaceChildren(el("li", T.no_history));
  $("pop-prank").hidden = !view.flagged;  // the screen-pop's history fills in the count
  prankBadge(view);
  $("disposition-saved").hidden = true;
  setCallState(state || view.state);
}

function setCallState(state) {
  if (!call) return;
  call.state = state;
  $("pop").dataset.callId = call.id;  // read by handoff.js
  $("pop").dataset.state = state;
  $("pop-title").textContent = state === "connected" ? T.connected : state === "offered" ? T.incoming
    : state === "transferred" ? T.state_transferred : T.ended;
  $("call-panel").hidden = state === "offered";
  if (state === "connected" && !call.connectedAt) call.connectedAt = Date.now();
}

function showHistory(message) {
  if (!call || message.call_id !== call.id) return;
  const items = message.calls.map((c) => el("li", `${c.received_at} · ${c.disposition ? T[c.disposition] || c.disposition : c.state}`));
  $("pop-history").replaceChildren(...(items.length ? items : [el("li", T.no_history)]));
  $("pop-prank").hidden = message.prank_count === 0;
  $("pop-prank-count").textContent = message.prank_count;
  prankBadge(call, message);
}

setInterval(() => {
  if (call && call.connectedAt && call.state === "connected") $("pop-timer").textContent = mmss((Date.now() - call.connectedAt) / 1000);
}, 250);

async function refresh() {
  const me = await api("GET", "/api/v1/me");
  showSeat(me.seat);
  if (!me.seat) {
    $("seat-select").replaceChildren(...me.seats.map((s) => el("option", s)));
  }
  if (me.call) showCall(me.call, me.call.state);  // a reload mid-call brings the call back
}

$("take-seat").addEventListener("submit", async (e) => {
  e.preventDefault();
  showSeat(await api("POST", "/api/v1/seat/sign-in", {seat: $("seat-select").value}));
});
document.querySelectorAll("#seat-bar button").forEach((b) => b.addEventListener("click", async () => {
  const view = await api("POST", `/api/v1/seat/${b.dataset.verb}`, b.dataset.reason ? {reason: b.dataset.reason} : {});
  if (b.dataset.verb === "sign-out") { seat = null; await refresh(); } else showSeat(view);
}));
document.querySelectorAll("#dispositions button").forEach((b) => b.addEventListener("click", async () => {
  if (!call) return;
  await api("POST", `/api/v1/calls/${encodeURIComponent(call.id)}/disposition`, {disposition: b.dataset.disposition});
  $("disposition-saved").hidden = false;
}));

setupIncidentForm();
connect((m) => {
  infoRequests(m);  // the agencies' requests for more information
  if (m.type === "hello") refresh();
  else if (m.type === "screen_pop") { showCall(m.call, "offered"); showHistory(m.history); }
  else if (m.type === "SeatPhoneFailed" && m.seat === seat) showPhoneFailed(m);
  else if (m.type === "SeatTransition" && m.seat === seat) {
    if (m.to_state === "busy" || (m.from_state === "paused" && m.to_state === "available")) $("phone-failed").hidden = true;
    showSeat({id: m.seat, state: m.to_state, reason: m.reason});
  }
  else if (m.type === "CallTransition" && call && m.call_id === call.id) setCallState(m.to_state);
  else if (m.type === "incident") showIncident(m.incident);
});
