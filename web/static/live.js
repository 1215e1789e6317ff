// Shared by the console pages: words, clock in WIB, JSON API calls with the CSRF token, and a /ws that reconnects.
export const T = JSON.parse(document.getElementById("words").textContent);
const CSRF = JSON.parse(document.getElementById("csrf").textContent);

export function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);  // never innerHTML: caller ids are untrusted
  if (cls) node.className = cls;
  return node;
}

export function mmss(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
}

export async function api(method, path, body) {
  const response = await fetch(path, {
    method, credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-CSRF-Token": CSRF},
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401) window.location = "/masuk";
    const error = new Error(data.message || `HTTP ${response.status}`);
    error.body = data;
    throw error;
  }
  return data;
}

const SESSION_ENDED = 4401;  // padang112/web/live_guard.py

export function connect(onMessage) {
  const banner = document.getElementById("live-lost");
  let delay = 500;
  const open = () => {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
    ws.onopen = () => { banner.hidden = true; delay = 500; };
    ws.onmessage = (m) => onMessage(JSON.parse(m.data));
    ws.onclose = (event) => {
      if (event.code === SESSION_ENDED) { window.location = "/masuk"; return; }  // signed out, disabled or expired
      banner.hidden = false; setTimeout(open, delay); delay = Math.min(delay * 2, 5000);
    };
  };
  open();
}

// The service-level strip (_service_level.html) is rendered by the server with its SVG chart: refresh it from
// the page that includes it, twice a minute.
export function refreshServiceLevel(page) {
  setInterval(async () => {
    const response = await fetch(page, {credentials: "same-origin"});
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html").querySelector(".service-level");
    const current = document.querySelector(".service-level");
    if (fresh && current) current.replaceWith(fresh);
  }, 30000);
}

const clock = document.getElementById("clock");
const tick = () => {
  clock.textContent = new Date().toLocaleString("id-ID", {timeZone: "Asia/Jakarta", hour12: false}) + " WIB";
};
tick();
setInterval(tick, 1000);
