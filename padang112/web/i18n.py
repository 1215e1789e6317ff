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

# The dashboard (/dasbor) and the shift and daily reports (/laporan).
TEXT["id"].update({
    "nav_dashboard": "Dasbor", "nav_reports": "Laporan", "dash_title": "Dasbor pusat komando",
    "open_by_type": "Kejadian terbuka per jenis", "open_by_agency": "Tugas terbuka per OPD", "total": "Jumlah",
    "open_tasks": "Terbuka", "waiting_ack": "Menunggu diterima", "overdue": "Lewat batas",
    "map_title": "Peta kejadian hari ini (WIB)",
    "map_note": "Tanpa peta dasar: titik kecamatan hanya perkiraan; kejadian tanpa koordinat digambar di titik "
                "kecamatannya.",
    "times_title": "Waktu terima dan selesai per OPD (tugas hari ini)", "tasks": "Tugas",
    "ack_p50": "Terima p50", "ack_p90": "Terima p90", "resolve_p50": "Selesai p50", "resolve_p90": "Selesai p90",
    "within_deadline": "% diterima dalam batas", "missed": "Terlambat",
    "deadlines": "Batas waktu terima (target 90 % dalam batas)",
    "no_resolve_deadline": "Waktu dihitung sejak dikirim ke OPD. Belum ada batas waktu penyelesaian.",
    "updated": "Diperbarui", "report_title": "Laporan", "report_room": "Seluruh ruang 112", "date": "Tanggal",
    "shift": "Sif", "whole_day": "Sehari penuh (00–24 WIB)", "shift_pagi": "Pagi (07–15 WIB)",
    "shift_siang": "Siang (15–23 WIB)", "shift_malam": "Malam (23–07 WIB)", "show": "Tampilkan",
    "download_csv": "Unduh CSV", "print": "Cetak", "period": "Periode", "calls_section": "Panggilan",
    "dispositions_title": "Disposisi panggilan", "unmarked": "Belum ditandai", "incidents_created": "Kejadian baru",
    "incidents_by_type": "Kejadian per jenis", "agency_section": "Kejadian per OPD: waktu terima dan selesai",
    "calls_room_only": "Angka panggilan milik ruang 112: lihat laporan seluruh ruang.", "generated": "Dibuat",
    "chart_tasks": "Tugas per OPD", "chart_ack_p90": "p90 waktu terima per OPD",
    "report_chart_hours": "Panggilan per jam (WIB)", "cancelled": "Dibatalkan", "scope": "Cakupan",
})
TEXT["en"].update({
    "nav_dashboard": "Dashboard", "nav_reports": "Reports", "dash_title": "Command-center dashboard",
    "open_by_type": "Open incidents by type", "open_by_agency": "Open tasks by agency", "total": "Total",
    "open_tasks": "Open", "waiting_ack": "Awaiting acknowledgement", "overdue": "Overdue",
    "map_title": "Map of today's incidents (WIB)",
    "map_note": "No base map: district points are approximate; incidents without coordinates are drawn at their "
                "district's point.",
    "times_title": "Acknowledge and resolve times per agency (today's tasks)", "tasks": "Tasks",
    "ack_p50": "Acknowledge p50", "ack_p90": "Acknowledge p90", "resolve_p50": "Resolve p50",
    "resolve_p90": "Resolve p90", "within_deadline": "% acknowledged in time", "missed": "Late",
    "deadlines": "Acknowledge deadlines (target 90 % in time)",
    "no_resolve_deadline": "Times count from the dispatch to the agency. There is no resolve deadline yet.",
    "updated": "Updated", "report_title": "Report", "report_room": "The whole 112 room", "date": "Date",
    "shift": "Shift", "whole_day": "Whole day (00–24 WIB)", "shift_pagi": "Morning (07–15 WIB)",
    "shift_siang": "Afternoon (15–23 WIB)", "shift_malam": "Night (23–07 WIB)", "show": "Show",
    "download_csv": "Download CSV", "print": "Print", "period": "Period", "calls_section": "Calls",
    "dispositions_title": "Call dispositions", "unmarked": "Not marked", "incidents_created": "New incidents",
    "incidents_by_type": "Incidents by type", "agency_section": "Incidents per agency: acknowledge and resolve times",
    "calls_room_only": "Call figures belong to the 112 room: see the whole room's report.", "generated": "Generated",
    "chart_tasks": "Tasks per agency", "chart_ack_p90": "p90 time to acknowledge per agency",
    "report_chart_hours": "Calls per hour (WIB)", "cancelled": "Cancelled", "scope": "Scope",
})

# Requests for more information (OPD <-> 112 room), hand-entered incidents (/kejadian/baru), clearing a prank score.
TEXT["id"].update({
    "info_ask": "Minta info tambahan", "info_question": "Pertanyaan untuk ruang 112", "info_send": "Kirim",
    "info_cancel": "Batal", "info_requests": "Permintaan info dari OPD", "info_none": "Tidak ada permintaan info",
    "info_answer": "Jawaban", "info_send_answer": "Kirim jawaban", "info_unanswered": "Belum dijawab",
    "info_answered": "Dijawab", "info_thread": "Tanya jawab dengan ruang 112",
    "new_incident": "Catat kejadian tanpa panggilan", "new_incident_title": "Kejadian baru (tanpa panggilan)",
    "source": "Sumber laporan", "source_walk_in": "Datang langsung", "source_radio": "Radio",
    "source_social_media": "Media sosial", "source_other": "Lainnya", "caller_name": "Nama pelapor",
    "callback_number": "Nomor yang bisa dihubungi", "another_incident": "Catat kejadian lain",
    "prank_score": "skor", "prank_clear": "Hapus tanda iseng", "prank_cleared": "Tanda iseng dihapus",
})
TEXT["en"].update({
    "info_ask": "Request more information", "info_question": "Question for the 112 room", "info_send": "Send",
    "info_cancel": "Cancel", "info_requests": "Information requests from agencies",
    "info_none": "No information requests", "info_answer": "Answer", "info_send_answer": "Send answer",
    "info_unanswered": "Unanswered", "info_answered": "Answered", "info_thread": "Questions to the 112 room",
    "new_incident": "Enter an incident without a call", "new_incident_title": "New incident (no call)",
    "source": "Report source", "source_walk_in": "Walk-in", "source_radio": "Radio",
    "source_social_media": "Social media", "source_other": "Other", "caller_name": "Reporter's name",
    "callback_number": "Callback number", "another_incident": "Enter another incident",
    "prank_score": "score", "prank_clear": "Clear prank flag", "prank_cleared": "Prank flag cleared",
})


# Cameras and the video wall (/dinding, /admin/kamera).
TEXT["id"].update({
    "cam_wall": "Dinding video", "cam_cameras": "Kamera", "cam_admin": "Kamera CCTV", "cam_grid": "Petak",
    "cam_save_layout": "Simpan tata letak", "cam_layout_saved": "Tata letak tersimpan",
    "cam_down": "Kamera mati", "cam_of": "dari", "cam_online": "Aktif", "cam_offline": "Mati",
    "cam_unknown": "Belum dicek", "cam_last_seen": "terakhir terlihat", "cam_never_seen": "belum pernah terlihat",
    "cam_reconnecting": "Menyambung ulang…", "cam_choose": "— pilih kamera —", "cam_empty": "Kosong",
    "cam_kind_traffic": "Lalu lintas", "cam_kind_public_facility": "Fasilitas umum",
    "cam_kind_flood_gauge": "Pantauan banjir", "cam_kind_other": "Lainnya", "cam_kind": "Jenis kamera",
    "cam_name": "Nama", "cam_stream_type": "Jenis stream", "cam_stream_url": "Alamat stream",
    "cam_stream_url_hint": "Kosongkan untuk tetap memakai alamat tersimpan", "cam_latitude": "Lintang",
    "cam_longitude": "Bujur", "cam_add": "Tambah kamera", "cam_enable": "Aktifkan", "cam_disable": "Nonaktifkan",
    "cam_disabled": "Nonaktif", "cam_status": "Status", "cam_fullscreen": "Klik petak untuk layar penuh",
    "cam_near": "Kamera terdekat", "cam_distance": "Jarak", "cam_added": "Kamera ditambahkan",
})
TEXT["en"].update({
    "cam_wall": "Video wall", "cam_cameras": "Cameras", "cam_admin": "CCTV cameras", "cam_grid": "Tiles",
    "cam_save_layout": "Save layout", "cam_layout_saved": "Layout saved",
    "cam_down": "Cameras down", "cam_of": "of", "cam_online": "Online", "cam_offline": "Offline",
    "cam_unknown": "Not checked yet", "cam_last_seen": "last seen", "cam_never_seen": "never seen",
    "cam_reconnecting": "Reconnecting…", "cam_choose": "— choose a camera —", "cam_empty": "Empty",
    "cam_kind_traffic": "Traffic", "cam_kind_public_facility": "Public facility",
    "cam_kind_flood_gauge": "Flood gauge", "cam_kind_other": "Other", "cam_kind": "Camera kind",
    "cam_name": "Name", "cam_stream_type": "Stream type", "cam_stream_url": "Stream URL",
    "cam_stream_url_hint": "Leave empty to keep the stored URL", "cam_latitude": "Latitude",
    "cam_longitude": "Longitude", "cam_add": "Add camera", "cam_enable": "Enable", "cam_disable": "Disable",
    "cam_disabled": "Disabled", "cam_status": "Status", "cam_fullscreen": "Click a tile for full screen",
    "cam_near": "Nearest cameras", "cam_distance": "Distance", "cam_added": "Camera added",
})

def words(lang: str) -> dict[str, str]:
    return TEXT.get(lang, TEXT["id"])

# The callback list (callers who hung up before they were answered).
TEXT["id"].update({
    "callbacks": "Panggilan balik", "no_callbacks": "Tidak ada yang perlu ditelepon balik",
    "call_back": "Telepon balik", "deadline": "Batas waktu", "overdue_by": "terlambat", "left": "lagi",
    "abandoned_calls": "Panggilan terputus", "attempts": "Percobaan", "cb_open": "Menunggu",
    "cb_dialing": "Sedang ditelepon", "cb_connected": "Tersambung", "cb_done": "Selesai",
    "cb_matched": "Sudah menelepon lagi", "out_reached": "tersambung", "out_no_answer": "tidak diangkat",
    "out_busy": "sibuk", "out_unreachable": "tidak dapat dihubungi", "out_seat_no_answer": "telepon kursi tidak diangkat",
    "out_failed": "gagal", "callback": "Panggilan balik",
})
TEXT["en"].update({
    "callbacks": "Callbacks", "no_callbacks": "Nobody to call back",
    "call_back": "Call back", "deadline": "Deadline", "overdue_by": "overdue", "left": "left",
    "abandoned_calls": "Abandoned calls", "attempts": "Attempts", "cb_open": "Waiting",
    "cb_dialing": "Dialling", "cb_connected": "Connected", "cb_done": "Done",
    "cb_matched": "Called again", "out_reached": "reached", "out_no_answer": "no answer",
    "out_busy": "busy", "out_unreachable": "unreachable", "out_seat_no_answer": "seat phone not answered",
    "out_failed": "failed", "callback": "Callback",
})

# Warm hand-off from the call panel.
TEXT["id"].update({
    "handoff": "Serahkan ke OPD (sambung bertiga)", "handoff_agency": "OPD tujuan", "handoff_dial": "Sambungkan",
    "handoff_leave": "Tinggalkan panggilan", "handoff_dialing": "Menelepon piket OPD…",
    "handoff_joined": "OPD tersambung: bicara bertiga", "handoff_failed": "Piket OPD tidak menjawab",
    "handoff_left": "OPD meninggalkan panggilan", "handoff_seat_left": "Panggilan diserahkan ke OPD",
    "state_transferred": "Diserahkan ke OPD", "handoff_from_112": "Panggilan diserahkan dari 112",
})
TEXT["en"].update({
    "handoff": "Hand over to an agency (three-way)", "handoff_agency": "Agency", "handoff_dial": "Connect",
    "handoff_leave": "Leave the call", "handoff_dialing": "Calling the agency's duty phone…",
    "handoff_joined": "Agency connected: three-way call", "handoff_failed": "The duty phone did not answer",
    "handoff_left": "The agency left the call", "handoff_seat_left": "Call handed over to the agency",
    "state_transferred": "Handed over to agency", "handoff_from_112": "Call handed over from 112",
})

# Cameras near an incident, in the incident views.
TEXT["id"].update({"cam_none_near": "Tidak ada kamera dalam radius kejadian ini.", "close": "Tutup"})
TEXT["en"].update({"cam_none_near": "No camera within this incident's radius.", "close": "Close"})

# Escalation calls to an agency's duty phone, on the supervisor's screen.
TEXT["id"].update({"duty_call": "Telepon piket", "duty_no_answer": "tidak diangkat",
                   "duty_no_key": "diangkat, 1 tidak ditekan", "duty_stopped": "dihentikan (sudah diterima)"})
TEXT["en"].update({"duty_call": "Duty phone", "duty_no_answer": "not answered",
                   "duty_no_key": "answered, 1 not pressed", "duty_stopped": "stopped (acknowledged)"})
