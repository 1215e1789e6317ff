// The screen-pop's prank badge: the number's score, and "Hapus tanda iseng" (clear it: stored, who and when).
import {T, api} from "/static/live.js";

const $ = (id) => document.getElementById(id);
let current = null;  // the call on screen

// A new call on screen (history undefined), or its screen-pop's history (score, count since any clearance).
export function prankBadge(call, history) {
  current = call;
  const score = history ? history.prank_score || 0 : null;
  $("pop-prank-score").textContent = score ? `(${T.prank_score} ${score.toFixed(1)})` : "";
  $("pop-prank-clear").hidden = !(score > 0 || (!history && call.flagged));
  $("pop-prank-cleared").hidden = true;
}

$("pop-prank-clear").addEventListener("click", async () => {
  if (!current) return;
  await api("POST", "/api/v1/prank-clearances", {number: current.caller_number, call_id: current.id});
  $("pop-prank-clear").hidden = true;
  $("pop-prank-score").textContent = "";
  $("pop-prank-cleared").hidden = false;
});
