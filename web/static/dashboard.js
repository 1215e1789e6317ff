// Command-center dashboard: open incidents by type and agency, today's incidents on a map without tiles, and
// acknowledge/resolve times per agency. Reloads /api/v1/dashboard after each incident message of /ws.
import {T, api, connect, el} from "/static/live.js";

const L = window.L;  // Leaflet, vendored in /static/vendor/leaflet (scripts/vendor-web.sh)
const LANG = document.documentElement.lang === "en" ? "en" : "id";
const mapBox = document.getElementById("map");
const map = L.map(mapBox, {zoomSnap: 0.25, attributionControl: false});
map.fitBounds(JSON.parse(mapBox.dataset.bounds));
const districts = L.layerGroup().addTo(map);
const markers = L.layerGroup().addTo(map);
const cameraLayer = L.layerGroup().addTo(map);  // CCTV cameras beside the incidents (squares: green up, red down)
let districtsDrawn = false;

function row(cells) {
  const tr = document.createElement("tr");
  cells.forEach((cell, n) => tr.append(cell instanceof Node ? cell : el("td", cell, n ? "num" : "")));
  return tr;
}

function seconds(value) {
  if (value === null || value === undefined) return "–";
  const text = value.toFixed(1);
  return `${LANG === "id" ? text.replace(".", ",") : text} ${T.seconds}`;
}

function percent(value, below) {
  const td = el("td", value === null ? "–" : `${LANG === "id" ? value.toFixed(1).replace(".", ",") : value.toFixed(1)} %`, "num");
  if (below) td.classList.add("below");
  return td;
}

function drawDistricts(kecamatan) {
  if (districtsDrawn) return;
  for (const k of kecamatan) {
    L.circleMarker([k.lat, k.lon], {radius: 5, color: "#12355b", weight: 1, fillOpacity: 0.5})
      .bindTooltip(el("span", k.name), {permanent: true, direction: "right", className: "kec-label"})
      .addTo(districts);
  }
  if (kecamatan.length) map.fitBounds(L.latLngBounds(kecamatan.map((k) => [k.lat, k.lon])).pad(0.08));
  districtsDrawn = true;
}

function popup(p) {
  const box = el("div");
  box.append(el("strong", p.number), el("div", `${p.type_name} · P${p.priority}`), el("div", p.kecamatan));
  return box;
}

let openNumber = null;  // the incident whose popup is open: reopened after each redraw
function drawIncidents(points) {
  const keep = openNumber;
  markers.clearLayers();
  for (const p of points) {
    const marker = L.marker([p.lat, p.lon], {title: `${p.number} · ${p.type_name}`, alt: p.number,
                                             opacity: p.approximate ? 0.75 : 1});
    marker.bindPopup(popup(p)).addTo(markers);
    marker.on("popupopen", () => { openNumber = p.number; });
    marker.on("popupclose", () => { if (openNumber === p.number) openNumber = null; });
    const icon = marker.getElement();
    if (icon) { icon.dataset.number = p.number; icon.dataset.state = p.state; }
    if (p.number === keep) marker.openPopup();
  }
  document.getElementById("map-count").textContent = points.length;
}

function render(d) {
  document.getElementById("open-total").textContent = d.open.total;
  document.querySelector("#by-type tbody").replaceChildren(
    ...(d.open.by_type.length ? d.open.by_type.map((x) => row([x.name, x.count])) : [row([T.no_incidents, ""])]));
  document.querySelector("#by-agency tbody").replaceChildren(...d.open.by_agency.map((a) => {
    const tr = row([a.name, a.open, a.waiting_ack, a.overdue]);
    tr.dataset.agency = a.agency;
    if (a.overdue) tr.lastChild.classList.add("below");
    return tr;
  }));
  document.querySelector("#agency-times tbody").replaceChildren(...d.agency_times.map((a) => {
    const tr = row([a.name, a.tasks, seconds(a.ack_p50_s), seconds(a.ack_p90_s),
                    percent(a.within_deadline_pct, a.below_target), a.missed_deadline,
                    seconds(a.resolve_p50_s), seconds(a.resolve_p90_s)]);
    tr.dataset.agency = a.agency;
    return tr;
  }));
  drawDistricts(d.map.kecamatan);
  drawIncidents(d.map.incidents);
  document.getElementById("updated").textContent = d.generated_at.slice(11, 19) + " WIB";
}

// Cameras as small squares (a divIcon: no image download), their status from /api/v1/cameras.
function drawCameras(cameras) {
  cameraLayer.clearLayers();
  for (const c of cameras) {
    if (!c.enabled || c.latitude === null || c.longitude === null) continue;
    const icon = L.divIcon({className: `camera-marker ${c.status}`, iconSize: [10, 10]});
    const marker = L.marker([c.latitude, c.longitude], {icon, title: c.name, keyboard: false}).addTo(cameraLayer);
    const text = el("div");
    text.append(el("strong", c.name), el("div", `${T.cam_cameras} · ${T["cam_" + c.status] || c.status}`));
    marker.bindPopup(text);
    marker.getElement().dataset.cameraId = c.id;
  }
  document.getElementById("map-cameras").textContent = cameras.filter((c) => c.enabled).length;
}

async function load() {
  const [dashboard, cameras] = await Promise.all([api("GET", `/api/v1/dashboard?lang=${LANG}`),
                                                 api("GET", "/api/v1/cameras")]);
  render(dashboard);
  drawCameras(cameras.cameras);
}

let pending = null;
function soon() {  // several incident messages arrive together: read the dashboard once for them
  if (pending) return;
  pending = setTimeout(() => { pending = null; load(); }, 200);
}

const escalations = [];
connect((m) => {
  if (m.type === "hello") load();
  else if (m.type === "incident" || m.type === "camera_status") soon();
  else if (m.type === "escalation") {
    escalations.push(el("div", `${T.escalation}: ${m.agency_name || m.agency} · ${m.number || ""}`, "banner escalation"));
    document.getElementById("alerts").replaceChildren(...escalations.slice(-5));
    soon();
  }
});
setInterval(load, 30000);  // deadlines pass without any event
