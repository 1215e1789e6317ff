// The supervisor's "cameras down" line: how many enabled cameras the last probe found offline (every 30 s).
import {T, api} from "/static/live.js";

const box = document.getElementById("cameras-down-line");

async function refresh() {
  const {total, offline} = await api("GET", "/api/v1/cameras");
  box.textContent = `${T.cam_down}: ${offline} ${T.cam_of} ${total}`;
  box.classList.toggle("alert", offline > 0);
}

refresh().catch(() => {});
setInterval(() => refresh().catch(() => {}), 30000);
