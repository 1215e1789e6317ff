// Call history: when a recording starts playing, say whether it is the file sealed when it was closed
// (GET .../recording/integrity: "terverifikasi"/"verified" or "berubah"/"changed").
"use strict";
document.querySelectorAll("span.integrity[data-url]").forEach((label) => {
  const audio = label.previousElementSibling;
  if (!audio) return;
  audio.addEventListener("play", async () => {
    try {
      const response = await fetch(label.dataset.url, { credentials: "same-origin" });
      if (!response.ok) return;
      const result = await response.json();
      label.textContent = result.label;
      label.className = `integrity ${result.status}`;
    } catch (error) {
      console.warn("integrity check failed", error);
    }
  }, { once: true });
});
