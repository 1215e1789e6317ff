// The camera registry page (admins): the list with status and masked stream URL, add, disable/enable.
import {T, api, el} from "/static/live.js";
import {statusText} from "/static/camera_tile.js";

async function load() {
  const {cameras} = await api("GET", "/api/v1/cameras");
  document.querySelector("#cameras tbody").replaceChildren(...cameras.map((c) => {
    const toggle = el("button", c.enabled ? T.cam_disable : T.cam_enable);
    toggle.addEventListener("click", () => api("PATCH", `/api/v1/cameras/${c.id}`, {enabled: !c.enabled}).then(load));
    const tr = document.createElement("tr");
    for (const text of [c.id, c.name, c.kecamatan, T[`cam_kind_${c.kind}`] || c.kind, c.stream_type, c.stream_url,
      c.enabled ? statusText(c) : T.cam_disabled]) tr.append(el("td", text));
    const actions = el("td");
    actions.append(toggle);
    tr.append(actions);
    return tr;
  }));
}

const form = document.getElementById("camera-form");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = Object.fromEntries(new FormData(form).entries());
  const errors = document.getElementById("form-errors");
  errors.replaceChildren();
  try {
    await api("POST", "/api/v1/cameras", body);
    form.reset();
    document.getElementById("form-state").textContent = T.cam_added;
    load();
  } catch (error) {
    const fields = (error.body && error.body.fields) || {};
    const lang = document.documentElement.lang;
    errors.replaceChildren(...Object.entries(fields).map(([name, f]) => el("li", `${name}: ${lang === "en" ? f.message_en : f.message}`)));
    if (!errors.children.length) errors.append(el("li", error.message));
  }
});

load();
setInterval(load, 30000);
