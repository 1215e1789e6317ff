// The supervisor's surge strip: waiting now, oldest wait, abandoned and arrived in the last 5 minutes, and the
// queue's peak per 10 s over the last 10 minutes as a sparkline (drawn with SVG elements, no markup strings).
import {mmss} from "/static/live.js";

const SVG = "http://www.w3.org/2000/svg";
const $ = (id) => document.getElementById(id);

export function showSurge(room, age) {
  const total = room.waiting_total ?? room.waiting.length;
  $("surge-waiting").textContent = total;
  $("surge-oldest").textContent = mmss(total ? (room.oldest_wait_s || 0) + age : 0);
  const strip = $("surge");
  strip.dataset.level = total === 0 ? "calm" : (room.oldest_wait_s || 0) + age > 15 ? "red" : "amber";
  if (!room.surge) return;
  $("surge-abandoned").textContent = room.surge.abandoned_5min;
  $("surge-arrived").textContent = room.surge.arrived_5min;
  sparkline($("surge-trend"), room.surge.trend.map((p) => p.waiting), room.surge.trend.map((p) => p.abandoned));
}

function sparkline(svg, waiting, abandoned) {
  const w = 240, h = 48, n = Math.max(2, waiting.length);
  const top = Math.max(1, ...waiting, ...abandoned);
  const x = (i) => (i * (w - 2)) / (n - 1) + 1;
  const y = (v) => h - 2 - (v * (h - 6)) / top;
  const line = (values, cls) => {
    const path = document.createElementNS(SVG, "polyline");
    path.setAttribute("points", values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "));
    path.setAttribute("class", cls);
    return path;
  };
  const peak = document.createElementNS(SVG, "text");
  peak.setAttribute("x", "2");
  peak.setAttribute("y", "10");
  peak.textContent = String(Math.max(0, ...waiting));
  svg.replaceChildren(line(waiting, "waiting"), line(abandoned, "abandoned"), peak);
  svg.dataset.points = String(waiting.length);
}
