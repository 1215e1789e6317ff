// The video wall: a grid of 1/4/9/16 camera tiles (layout saved per user), the open-incident and cameras-down
// counts, and the service-level strip. Built to run for days: tiles are destroyed when replaced, cameras live in
// one Map replaced in place, and nothing is appended to without bound.
import {T, api, connect, el, refreshServiceLevel} from "/static/live.js";
import {CameraTile} from "/static/camera_tile.js";

const wall = document.getElementById("wall");
const gridSelect = document.getElementById("grid");
const saveButton = document.getElementById("save-layout");
const savedNote = document.getElementById("layout-state");
const cameras = new Map();  // id -> camera view
const slots = [];  // one per tile position: {root, select, tile}; length is the grid size
let grid = 4;

function cameraOptions(select, chosen) {
  const options = [el("option", T.cam_choose)];
  options[0].value = "";
  for (const camera of cameras.values()) {
    const option = el("option", `${camera.name} (${camera.kecamatan})`);
    option.value = String(camera.id);
    option.selected = camera.id === chosen;
    options.push(option);
  }
  select.replaceChildren(...options);
}

function show(slot, cameraId) {
  if (slot.tile) { slot.tile.destroy(); slot.tile = null; }
  const camera = cameras.get(cameraId);
  slot.root.dataset.cameraId = camera ? camera.id : "";
  if (camera) slot.tile = new CameraTile(slot.view, camera);
  slot.view.classList.toggle("empty", !camera);
}

function makeSlot(index) {
  const root = el("section", null, "wall-slot");
  root.dataset.index = index;
  const view = el("div", null, "wall-view");
  const select = el("select");
  select.setAttribute("aria-label", `${T.cam_cameras} ${index + 1}`);
  const slot = {root, view, select, tile: null};
  select.addEventListener("change", () => {
    show(slot, select.value ? Number(select.value) : null);
    savedNote.textContent = "";
  });
  view.addEventListener("click", () => toggleFull(root));
  root.append(view, select);
  return slot;
}

function toggleFull(root) {
  const full = !root.classList.contains("full");
  for (const slot of slots) slot.root.classList.remove("full");
  root.classList.toggle("full", full);
  if (full && root.requestFullscreen) root.requestFullscreen().catch(() => {});
  else if (!full && document.fullscreenElement) document.exitFullscreen().catch(() => {});
}
document.addEventListener("fullscreenchange", () => {
  if (!document.fullscreenElement) for (const slot of slots) slot.root.classList.remove("full");
});

function layout(size, tiles) {
  grid = size;
  gridSelect.value = String(size);
  wall.className = `wall grid-${size}`;
  while (slots.length > size) {  // fewer tiles: destroy the ones that go
    const slot = slots.pop();
    if (slot.tile) slot.tile.destroy();
    slot.root.remove();
  }
  while (slots.length < size) {
    const slot = makeSlot(slots.length);
    slots.push(slot);
    wall.append(slot.root);
  }
  slots.forEach((slot, i) => {
    const wanted = tiles === undefined ? currentId(slot) : (tiles[i] ?? null);
    cameraOptions(slot.select, wanted);
    if (wanted !== currentId(slot) || (wanted !== null && !slot.tile)) show(slot, wanted);
  });
}

function currentId(slot) {
  return slot.tile ? slot.tile.camera.id : null;
}

function countDown() {
  let down = 0;
  for (const camera of cameras.values()) if (camera.status === "offline") down += 1;
  document.getElementById("cameras-down").textContent = String(down);
  document.getElementById("cameras-total").textContent = String(cameras.size);
  document.getElementById("cameras-down-box").classList.toggle("alert", down > 0);
}

function updateCamera(camera) {
  if (!camera.enabled) return;
  cameras.set(camera.id, camera);
  for (const slot of slots) if (slot.tile && slot.tile.camera.id === camera.id) slot.tile.update(camera);
  countDown();
}

async function loadCameras() {
  const data = await api("GET", "/api/v1/cameras");
  const seen = new Set();
  for (const camera of data.cameras) { if (camera.enabled) { updateCamera(camera); seen.add(camera.id); } }
  for (const id of [...cameras.keys()]) if (!seen.has(id)) cameras.delete(id);
  const names = [...cameras.values()].map((c) => `${c.id}:${c.name}`).join("|");
  if (names !== optionsFor) {  // cameras added, removed or renamed: the tile menus follow
    optionsFor = names;
    for (const slot of slots) cameraOptions(slot.select, currentId(slot));
  }
  countDown();
}
let optionsFor = "";

async function loadIncidents() {
  const {open} = await api("GET", "/api/v1/incident-count");  // the wall's kiosk account may read no more
  document.getElementById("open-incidents").textContent = String(open);
}

gridSelect.addEventListener("change", () => { layout(Number(gridSelect.value)); savedNote.textContent = ""; });
saveButton.addEventListener("click", async () => {
  await api("POST", "/api/v1/wall/layout", {grid, tiles: slots.map(currentId)});
  savedNote.textContent = T.cam_layout_saved;
});

async function start() {
  await loadCameras();
  const saved = await api("GET", "/api/v1/wall/layout");
  // a wall nobody has arranged yet shows the first cameras (those up first) rather than empty tiles
  const first = [...cameras.values()].sort((a, b) => (a.status === "offline") - (b.status === "offline"))
    .slice(0, saved.grid).map((c) => c.id);
  layout(saved.grid, saved.saved ? saved.tiles : first);
  wall.dataset.ready = "1";  // the saved layout is applied (tests wait for this before changing it)
  loadIncidents();
}

start();
connect((m) => {
  if (m.type === "camera_status") updateCamera(m.camera);
  else if (m.type === "incidents_changed" || m.type === "hello") loadIncidents().catch(() => {});
});
setInterval(() => loadCameras().catch(() => {}), 30000);  // a missed push is caught up

// Headless and kiosk Chromium keep some media memory per HLS stream that only a page load gives back (measured:
// bench/wall.py). The wall reloads itself every few hours (cameras.wall_reload_h), and only when the console
// answers, so a network blip never leaves an error page on the big screen; the saved layout comes back by itself.
const reloadS = Number(wall.dataset.reloadS || 0);
async function reloadWhenReachable() {
  try {
    const ok = (await fetch("/healthz", {cache: "no-store"})).ok;
    if (ok) { location.reload(); return; }
  } catch (e) { /* unreachable: try again in a minute */ }
  setTimeout(reloadWhenReachable, 60000);
}
if (reloadS > 0) setTimeout(reloadWhenReachable, reloadS * 1000);
setInterval(() => loadIncidents().catch(() => {}), 30000);

refreshServiceLevel("/dinding");
