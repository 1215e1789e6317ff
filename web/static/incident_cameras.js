// "Kamera terdekat": live tiles of the cameras nearest to one incident, in a panel outside the re-rendered lists
// (so a list refresh never leaves a stream playing in a detached tile). One incident at a time per page.
import {T, el} from "/static/live.js";
import {mountIncidentCameras} from "/static/camera_tile.js";

export class IncidentCameraPanel {
  constructor(panel, max = 4) {
    this.panel = panel;
    this.max = max;
    this.tiles = [];
    this.incidentId = null;
    panel.querySelector(".close").addEventListener("click", () => this.clear());
  }

  async show(incident) {
    if (this.incidentId === incident.id) return;
    this.clear();
    const id = incident.id;
    this.incidentId = id;
    this.panel.hidden = false;
    this.panel.dataset.incidentId = id;
    this.panel.querySelector(".title").textContent = `${T.cam_near} · ${incident.number}`;
    const tiles = await mountIncidentCameras(this.panel.querySelector(".tiles"), id, this.max);
    if (this.incidentId !== id) { tiles.forEach((t) => t.destroy()); return; }  // another incident was chosen meanwhile
    this.tiles = tiles;
    this.panel.querySelector(".none").hidden = tiles.length > 0;
  }

  clear() {
    this.tiles.forEach((t) => t.destroy());
    this.tiles = [];
    this.incidentId = null;
    this.panel.hidden = true;
    delete this.panel.dataset.incidentId;
  }
}

export function cameraButton(incident, panel) {
  const button = el("button", T.cam_near, "cameras-button");
  button.type = "button";
  button.addEventListener("click", () => panel.show(incident));
  return button;
}
