// "Saran jumlah petugas": reads GET /api/v1/staffing-advice now and every 5 minutes; text only via textContent.
const section = document.getElementById("staffing-advice");

function show(data) {
  data.hours.forEach((h, i) => {
    const row = section.querySelector(`tr[data-slot="${i}"]`);
    if (!row) return;
    row.querySelector('[data-field="hour"]').textContent = `${String(h.hour).padStart(2, "0")}:00`;
    row.querySelector('[data-field="seats"]').textContent = String(h.seats);
  });
  document.getElementById("staffing-signed-in").textContent = data.signed_in === null ? "–" : String(data.signed_in);
  const now = data.hours[0];
  const basis = document.getElementById("staffing-basis");
  basis.textContent = basis.dataset.template.replace("{calls}", String(now.calls_per_hour)).replace("{handle}", String(now.handle_s));
}

async function load() {
  try {
    const response = await fetch("/api/v1/staffing-advice", { credentials: "same-origin" });
    if (response.ok) show(await response.json());
  } catch (err) {
    // the next round tries again; the figures on screen stay as they were
  }
}

load();
setInterval(load, 5 * 60 * 1000);
