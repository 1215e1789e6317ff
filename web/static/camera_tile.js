// A live camera tile: plays one camera through padang112's proxy (/kamera/<id>/...), never the camera itself.
//
//   import {mountCameraTile} from "/static/camera_tile.js";
//   const tile = await mountCameraTile(container, cameraId);   // fetches /api/v1/cameras/<id>, polls its status
//   tile.destroy();                                             // stops the stream and frees everything
//
// HLS plays with the vendored hls.js (Chromium), natively only where there is no MSE (iPhone Safari).
// MJPEG is an <img> on the multipart stream; snapshots are fetched every SNAPSHOT_MS into object URLs (the previous one revoked).
// A tile reconnects by itself (stalled video, player error, camera back online) with a growing back-off, and
// holds no growing state: one player, one timer of each kind, at most two object URLs at any time.
import {T, el} from "/static/live.js";

const SNAPSHOT_MS = 2000;
const STALL_MS = 15000;
const STATUS_POLL_MS = 15000;
const HLS_CONFIG = {
  liveSyncDurationCount: 2, maxBufferLength: 8, maxMaxBufferLength: 16, backBufferLength: 4,
  enableWorker: true, lowLatencyMode: false, manifestLoadingMaxRetry: 2, levelLoadingMaxRetry: 2,
};
let hlsModule = null;  // the hls.js module, loaded once and only when a browser needs it

// hls.js wherever Media Source Extensions exist (Chromium, Firefox, desktop Safari): its buffer limits keep a
// wall's memory flat for days. The browser's own HLS only where there is no MSE (iPhone Safari).
function nativeHls(video) {
  return !(window.MediaSource || window.ManagedMediaSource) && video.canPlayType("application/vnd.apple.mpegurl") !== "";
}

async function loadHls() {
  hlsModule = hlsModule || import("/static/vendor/hls/hls.light.min.mjs").then((m) => m.default);
  return hlsModule;
}

export function wibTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString("id-ID", {timeZone: "Asia/Jakarta", hour12: false,
    day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"}) + " WIB";
}

export function statusText(camera) {
  if (camera.status === "offline") {
    const seen = camera.last_seen_at ? `${T.cam_last_seen} ${wibTime(camera.last_seen_at)}` : T.cam_never_seen;
    return `${T.cam_offline} · ${seen}`;
  }
  return camera.status === "online" ? T.cam_online : T.cam_unknown;
}

export class CameraTile {
  constructor(container, camera, {poll = false} = {}) {
    this.camera = camera;
    this.root = el("figure", null, "camera-tile");
    this.root.dataset.cameraId = camera.id;
    this.stage = el("div", null, "camera-stage");
    this.caption = el("figcaption");
    this.title = el("span", camera.name, "camera-name");
    this.badge = el("span", null, "camera-status");
    this.caption.append(this.title, this.badge);
    this.root.append(this.stage, this.caption);
    container.append(this.root);
    this.backoff = 1000;
    this.timers = {};
    this.destroyed = false;
    this.update(camera);
    this.start();
    if (poll) this.timers.poll = setInterval(() => this.refresh(), STATUS_POLL_MS);
  }

  update(camera) {
    const wasOffline = this.camera.status === "offline";
    this.camera = camera;
    this.title.textContent = camera.name;
    this.title.title = [camera.kecamatan, camera.location_text].filter(Boolean).join(" · ");
    this.badge.textContent = statusText(camera);
    this.root.dataset.status = camera.status;
    if (wasOffline && camera.status === "online") this.restart(0);  // back: reconnect now, not after back-off
  }

  async refresh() {
    try {
      const response = await fetch(`/api/v1/cameras/${encodeURIComponent(this.camera.id)}`, {credentials: "same-origin"});
      if (response.ok && !this.destroyed) this.update(await response.json());
    } catch (_) { /* the next poll tries again */ }
  }

  start() {
    if (this.destroyed) return;
    this.root.classList.remove("reconnecting");
    const kind = this.camera.playback;
    if (kind === "hls") this.startHls();
    else if (kind === "mjpeg") this.startMjpeg();
    else this.startSnapshots();
  }

  restart(delay) {
    if (this.destroyed) return;
    this.stopPlayer();
    this.root.classList.add("reconnecting");
    this.badge.textContent = `${statusText(this.camera)} · ${T.cam_reconnecting}`;
    const wait = delay === undefined ? this.backoff : delay;
    this.backoff = Math.min(this.backoff * 2, 30000);
    this.timers.restart = setTimeout(() => { this.timers.restart = null; this.start(); }, wait);
  }

  playing() {  // a frame arrived: the next failure starts its back-off from the beginning
    this.backoff = 1000;
    if (this.root.classList.contains("reconnecting")) {
      this.root.classList.remove("reconnecting");
      this.badge.textContent = statusText(this.camera);
    }
  }

  async startHls() {
    const video = el("video");
    video.muted = true; video.autoplay = true; video.playsInline = true;
    this.stage.replaceChildren(video);
    this.video = video;
    const url = this.camera.play_url;
    video.addEventListener("playing", () => this.playing());
    if (nativeHls(video)) {
      video.addEventListener("error", () => this.restart());
      video.src = url;
    } else {
      const Hls = await loadHls();
      if (this.destroyed || this.video !== video) return;
      const hls = new Hls(HLS_CONFIG);
      this.hls = hls;
      hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) this.restart(); });
      hls.loadSource(url);
      hls.attachMedia(video);
    }
    video.play().catch(() => {});
    let last = -1;
    let still = 0;
    this.timers.stall = setInterval(() => {  // a live stream whose clock stops is reconnected
      if (video.currentTime !== last) { last = video.currentTime; still = 0; return; }
      still += 5000;
      if (still >= STALL_MS) this.restart();
    }, 5000);
  }

  startMjpeg() {
    const img = el("img");
    img.alt = this.camera.name;
    img.addEventListener("error", () => this.restart());
    img.addEventListener("load", () => this.playing());
    img.src = `${this.camera.play_url}?t=${Date.now()}`;  // a fresh connection on each (re)start
    this.stage.replaceChildren(img);
    this.img = img;
  }

  startSnapshots() {
    const img = el("img");
    img.alt = this.camera.name;
    this.stage.replaceChildren(img);
    this.img = img;
    const next = async () => {
      this.timers.snapshot = null;
      const abort = new AbortController();
      this.abort = abort;
      try {
        const response = await fetch(this.camera.play_url, {credentials: "same-origin", cache: "no-store", signal: abort.signal});
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const blob = await response.blob();
        if (this.destroyed || this.img !== img) return;
        const url = URL.createObjectURL(blob);
        const previous = this.objectUrl;
        this.objectUrl = url;
        img.src = url;
        if (previous) URL.revokeObjectURL(previous);
        this.playing();
        this.timers.snapshot = setTimeout(next, SNAPSHOT_MS);
      } catch (error) {
        if (!this.destroyed && this.img === img && error.name !== "AbortError") this.restart();
      } finally {
        if (this.abort === abort) this.abort = null;
      }
    };
    next();
  }

  stopPlayer() {
    for (const name of ["stall", "snapshot", "restart"]) {
      clearInterval(this.timers[name]); clearTimeout(this.timers[name]); this.timers[name] = null;
    }
    if (this.abort) { this.abort.abort(); this.abort = null; }
    if (this.hls) { this.hls.destroy(); this.hls = null; }
    if (this.video) { this.video.pause(); this.video.removeAttribute("src"); this.video.load(); this.video = null; }
    if (this.img) { this.img.removeAttribute("src"); this.img = null; }  // closes an MJPEG connection
    if (this.objectUrl) { URL.revokeObjectURL(this.objectUrl); this.objectUrl = null; }
    this.stage.replaceChildren();
  }

  destroy() {
    this.destroyed = true;
    this.stopPlayer();
    clearInterval(this.timers.poll);
    this.timers = {};
    this.root.remove();
  }
}

// A tile for a camera id (the incident views and the dashboard use this); null if the camera is not visible.
export async function mountCameraTile(container, cameraId, options = {poll: true}) {
  const response = await fetch(`/api/v1/cameras/${encodeURIComponent(cameraId)}`, {credentials: "same-origin"});
  if (!response.ok) return null;
  return new CameraTile(container, await response.json(), options);
}

// The nearest cameras of an incident as tiles in `container` (at most `max`); returns them for destroy().
export async function mountIncidentCameras(container, incidentId, max = 2) {
  const response = await fetch(`/api/v1/incidents/${encodeURIComponent(incidentId)}/cameras`, {credentials: "same-origin"});
  if (!response.ok) return [];
  const {cameras} = await response.json();
  return cameras.slice(0, max).map((camera) => new CameraTile(container, camera, {poll: true}));
}
