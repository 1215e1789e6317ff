"""Screen words, Bahasa Indonesia first (see STORY.md), English available (``?lang=en``)."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "id": {
        "seat": "Kursi", "choose_seat": "Pilih kursi", "take_seat": "Ambil kursi", "ready": "Siap",
        "break": "Istirahat", "training": "Pelatihan", "technical": "Gangguan teknis", "sign_out": "Keluar",
        "leave_seat": "Tinggalkan kursi", "incoming": "Panggilan masuk", "waiting": "Menunggu",
        "connected": "Terhubung", "ended": "Selesai", "caller": "Pelapor", "number": "Nomor",
        "carrier": "Operator seluler", "waiting_for": "menunggu", "seconds": "dtk",
        "history": "Panggilan sebelumnya (30 hari)", "no_history": "Belum pernah menelepon",
        "prank_warning": "Riwayat panggilan iseng/kosong", "incident_form": "Formulir kejadian",
        "incident_soon": "Formulir kejadian akan tampil di sini.", "disposition": "Jenis panggilan",
        "emergency": "Darurat", "information": "Permintaan informasi", "prank": "Panggilan iseng",
        "silent": "Panggilan kosong", "wrong_number": "Salah sambung", "test": "Uji coba",
        "saved": "Tersimpan", "state_offline": "Tidak aktif", "state_available": "Siap",
        "state_offered": "Berdering", "state_busy": "Terhubung", "state_wrap_up": "Penyelesaian",
        "state_paused": "Jeda", "not_responding": "Tidak menjawab", "queue": "Antrean", "active": "Panggilan aktif",
        "seats": "Kursi", "user": "Petugas", "registered": "Telepon", "in_state": "Lama", "actions": "Tindakan",
        "pause": "Jeda", "alert_wait": "Ada penelepon menunggu lebih dari 15 detik",
        "alert_no_seat": "Tidak ada kursi yang siap", "live_lost": "Koneksi langsung terputus, menyambung ulang…",
        "yes": "ya", "no": "tidak", "supervisor": "Pengawas", "history_page": "Riwayat panggilan",
        "duration": "Durasi", "state": "Status", "position": "Posisi",
        "incident_type": "Jenis kejadian", "priority": "Prioritas", "victims": "Korban", "location": "Lokasi",
        "kecamatan": "Kecamatan", "kelurahan": "Kelurahan", "notes": "Keterangan", "agencies": "OPD",
        "dispatch": "Kirim ke OPD", "incident": "Kejadian", "task_dispatched": "Dikirim",
        "task_acknowledged": "Terima", "task_en_route": "Dalam perjalanan", "task_on_scene": "Di lokasi",
        "task_resolved": "Selesai", "task_cancelled": "Dibatalkan", "new_task": "Tugas baru",
        "agency_queue": "Antrean OPD", "no_incidents": "Tidak ada kejadian terbuka", "caller_number": "Nomor pelapor",
        "escalation": "Melewati batas waktu konfirmasi", "sent": "Terkirim", "choose": "— pilih —", "open_incidents": "Kejadian terbuka",
    },
    "en": {
        "seat": "Seat", "choose_seat": "Choose a seat", "take_seat": "Take seat", "ready": "Ready",
        "break": "Break", "training": "Training", "technical": "Technical problem", "sign_out": "Sign out",
        "leave_seat": "Leave seat", "incoming": "Incoming call", "waiting": "Waiting",
        "connected": "Connected", "ended": "Ended", "caller": "Caller", "number": "Number",
        "carrier": "Carrier", "waiting_for": "waiting", "seconds": "s",
        "history": "Earlier calls (30 days)", "no_history": "No earlier calls",
        "prank_warning": "Prank/silent call history", "incident_form": "Incident form",
        "incident_soon": "The incident form will appear here.", "disposition": "Disposition",
        "emergency": "Emergency", "information": "Information request", "prank": "Prank",
        "silent": "Ghost (silent)", "wrong_number": "Wrong number", "test": "Test",
        "saved": "Saved", "state_offline": "Offline", "state_available": "Ready",
        "state_offered": "Ringing", "state_busy": "Connected", "state_wrap_up": "Wrap-up",
        "state_paused": "Paused", "not_responding": "Not responding", "queue": "Queue", "active": "Active calls",
        "seats": "Seats", "user": "Call taker", "registered": "Phone", "in_state": "For", "actions": "Actions",
        "pause": "Pause", "alert_wait": "A caller has been waiting more than 15 seconds",
        "alert_no_seat": "No seat is ready", "live_lost": "Live connection lost, reconnecting…",
        "yes": "yes", "no": "no", "supervisor": "Supervisor", "history_page": "Call history",
        "duration": "Duration", "state": "State", "position": "Position",
        "incident_type": "Incident type", "priority": "Priority", "victims": "Victims", "location": "Location",
        "kecamatan": "District", "kelurahan": "Sub-district", "notes": "Notes", "agencies": "Agencies",
        "dispatch": "Dispatch to agencies", "incident": "Incident", "task_dispatched": "Dispatched",
        "task_acknowledged": "Acknowledged", "task_en_route": "En route", "task_on_scene": "On scene",
        "task_resolved": "Resolved", "task_cancelled": "Cancelled", "new_task": "New task",
        "agency_queue": "Agency queue", "no_incidents": "No open incidents", "caller_number": "Caller's number",
        "escalation": "Missed the acknowledge deadline", "sent": "Sent", "choose": "— choose —", "open_incidents": "Open incidents",
    },
}


def words(lang: str) -> dict[str, str]:
    return TEXT.get(lang, TEXT["id"])
