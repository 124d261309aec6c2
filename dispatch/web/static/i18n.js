// Indonesian is written in the pages; this holds English and the strings scripts need.
"use strict";
const I18N = {
  id: {
    "status.queued": "Antre", "status.assigned": "Ditugaskan", "status.acknowledged": "Diterima",
    "status.en_route": "Menuju lokasi", "status.on_scene": "Di lokasi",
    "status.transporting": "Merujuk", "status.at_hospital": "Di rumah sakit",
    "status.closed": "Selesai", "status.cancelled": "Dibatalkan",
    "team.available": "Siaga", "team.dispatched": "Ditugaskan", "team.en_route": "Menuju lokasi",
    "team.on_scene": "Di lokasi", "team.transporting": "Merujuk",
    "team.at_hospital": "Di rumah sakit", "team.out_of_service": "Tidak bertugas",
    "action.acknowledge": "TERIMA TUGAS", "action.en_route": "BERANGKAT",
    "action.on_scene": "TIBA DI LOKASI", "action.transporting": "MERUJUK PASIEN",
    "action.at_hospital": "TIBA DI RUMAH SAKIT", "action.clear": "SELESAI",
    "result.assigned": "Tim {team} dikirim · tiba ± {eta} menit",
    "result.queued": "Semua tim sibuk — insiden masuk antrean",
    "result.error": "Gagal: {detail}", "duty.on": "Dinas", "duty.off": "Libur",
    "pos.base": "pangkalan", "pos.gps": "GPS {age} lalu", "signal.lost": "sinyal hilang",
    "minutes": "{n} mnt", "team.offline": "Luring — {n} langkah menunggu dikirim",
    "team.online": "Daring", "team.offline_short": "Luring", "team.pending": "{n} langkah menunggu dikirim",
    "team.eta": "Perkiraan tiba {eta} menit", "team.gps_ok": "GPS aktif",
    "team.gps_off": "GPS tidak tersedia", "priority.1": "PRIORITAS 1 · MERAH",
    "priority.2": "PRIORITAS 2 · KUNING", "priority.3": "PRIORITAS 3 · HIJAU",
    "detail.assign": "Kirim", "callbacks.done": "Selesai", "callbacks.none": "Tidak ada",
    "line.active": "Nomor aktif: {number}", "line.critical": "SEMUA JALUR MATI — nomor utama dipertahankan: {number}",
    "line.override": "dipaksa admin",
    "incident.queued_alert": "Antre", "notes": "Catatan", "address": "Alamat",
    "caller": "Penelepon", "district": "Kecamatan", "team": "Tim", "received": "Diterima",
    // The reports page (reports.js, reports-map.js).
    "rep.print_title": "Laporan waktu tanggap EKSIS 112 Kota Parepare",
    "rep.card.share": "Tiba di lokasi ≤ {n} menit", "rep.card.reached": "{n} dijangkau tim",
    "rep.card.share_note": "{n} dari {m} yang dijangkau", "rep.card.target": "Target {n} menit",
    "rep.card.nfpa": "Acuan NFPA 1225: {n} detik", "rep.min": "mnt", "rep.sec": "dtk",
    "rep.chart.histogram": "Sebaran waktu tanggap", "rep.chart.fractiles": "Kurva fraktil kumulatif",
    "rep.chart.trend_weekly": "Tren mingguan", "rep.chart.trend_monthly": "Tren bulanan",
    "rep.chart.district": "P90 per kecamatan", "rep.chart.team": "P90 per tim",
    "rep.chart.heatmap": "Insiden per jam × hari",
    "rep.chart.calls_heatmap": "Panggilan 112 per jam × hari",
    "rep.priority.1": "1 · Merah", "rep.priority.2": "2 · Kuning", "rep.priority.3": "3 · Hijau",
    "rep.unknown": "(tidak diketahui)", "rep.no_team": "(belum ada tim)", "rep.no_data": "Tidak ada data",
    "rep.total": "Semua",
    "rep.group.priority": "Prioritas", "rep.group.district": "Kecamatan", "rep.group.team": "Tim",
    "rep.group.month": "Bulan", "rep.col.incidents": "Insiden", "rep.col.reached": "Dijangkau",
    "rep.col.p50": "P50 (mnt)", "rep.col.p90": "P90 (mnt)", "rep.col.max": "Maks (mnt)",
    "rep.col.share": "≤ {n} mnt", "rep.col.dispatch": "P90 proses panggilan (dtk)",
    "rep.col.minutes": "Menit", "rep.col.count": "Jumlah", "rep.col.share_m": "%",
    "rep.table.priority": "Menurut prioritas", "rep.table.district": "Menurut kecamatan",
    "rep.table.team": "Menurut tim", "rep.table.month": "Menurut bulan",
    "rep.table.fractiles": "Tabel fraktil: tiba di lokasi dalam M menit",
    "rep.error": "Laporan tidak dapat dimuat: {detail}",
    "rep.map.share": "Dalam target", "rep.map.share_title": "Kelurahan: tiba dalam target",
    "rep.map.points_title": "Insiden", "rep.map.on_time": "Tepat waktu", "rep.map.late": "Terlambat",
    "rep.map.not_reached": "Tidak dijangkau",
    "rep.map.truncated": "Peta menampilkan {n} insiden terbaru periode ini.",
    "complaints": ["Sesak napas", "Nyeri dada", "Tidak sadar", "Kecelakaan lalu lintas",
      "Perdarahan", "Kejang", "Persalinan", "Stroke", "Luka bakar", "Demam tinggi (anak)",
      "Jatuh / patah tulang", "Keracunan", "Lainnya"],
  },
  en: {
    "login.subtitle": "Health emergency service · Operators and Health Office",
    "login.failed": "Wrong username or password.", "login.username": "Username",
    "login.password": "Password", "login.submit": "Log in", "login.team_link": "Log in as a medical team",
    "login.team_failed": "Wrong team code or PIN.",
    "login.locked": "Too many failed attempts. Wait a minute, then try again.", "login.team_code": "Team code", "login.pin": "PIN",
    "nav.logout": "Log out", "live.down": "Live connection lost — reconnecting…",
    "call.title": "New call", "call.caller": "Caller number",
    "call.search": "Find a place (kelurahan, facility, landmark)", "call.map_hint": "Or click the map to mark the place.",
    "call.address": "Address", "call.landmark": "Landmark", "call.complaint": "Complaint",
    "call.complaint_text": "Complaint details", "call.priority": "Priority",
    "call.patients": "Patients", "call.kind": "Needs", "call.notes": "Notes",
    "call.submit": "Send & allocate", "kind.any": "Any ambulance", "kind.als": "ALS (advanced)",
    "kind.motorbike": "Motorbike responder allowed", "incidents.title": "Active incidents",
    "teams.title": "Teams", "teams.code": "Team", "teams.status": "Status", "teams.duty": "Duty",
    "teams.position": "Position", "callbacks.title": "Call-backs", "detail.reassign": "Send another team",
    "detail.cancel_reason": "Reason for cancelling", "detail.cancel": "Cancel",
    "detail.timeline": "Timeline",
    "reports.title": "Response-time report",
    "rep.heading": "Response-time report of the 112 health emergency service",
    "rep.city": "Parepare City Health Office · EKSIS Call Centre 112", "rep.period": "Period",
    "rep.from": "From", "rep.to": "To", "rep.show": "Show", "rep.quick.7d": "7 days",
    "rep.quick.30d": "30 days", "rep.quick.this_month": "This month",
    "rep.quick.last_month": "Last month", "rep.quick.12m": "12 months", "rep.download": "Download",
    "rep.csv": "Incident log (CSV)", "rep.xlsx": "Excel report (XLSX)",
    "rep.card.incidents": "Incidents", "rep.card.p90": "P90 response time",
    "rep.card.dispatch": "P90 call processing", "rep.card.cancelled": "Cancelled",
    "rep.card.open": "Still open", "rep.card.reassigned": "Reassigned to another team",
    "rep.charts": "Charts", "rep.map": "Map of late arrivals",
    "rep.map_note": "Kelurahan shaded by the share on scene within the target; points are incidents.",
    "rep.tables": "Tables",
    "rep.print_title": "EKSIS 112 Parepare response-time report",
    "rep.card.share": "On scene ≤ {n} minutes", "rep.card.reached": "{n} reached by a team",
    "rep.card.share_note": "{n} of {m} reached", "rep.card.target": "Target {n} minutes",
    "rep.card.nfpa": "NFPA 1225 reference: {n} s", "rep.min": "min", "rep.sec": "s",
    "rep.chart.histogram": "Response time distribution", "rep.chart.fractiles": "Cumulative fractile curve",
    "rep.chart.trend_weekly": "Weekly trend", "rep.chart.trend_monthly": "Monthly trend",
    "rep.chart.district": "P90 by kecamatan", "rep.chart.team": "P90 by team",
    "rep.chart.heatmap": "Incidents by hour × weekday",
    "rep.chart.calls_heatmap": "112 calls by hour × weekday",
    "rep.priority.1": "1 · Red", "rep.priority.2": "2 · Yellow", "rep.priority.3": "3 · Green",
    "rep.unknown": "(unknown)", "rep.no_team": "(no team yet)", "rep.no_data": "No data",
    "rep.total": "All",
    "rep.group.priority": "Priority", "rep.group.district": "Kecamatan", "rep.group.team": "Team",
    "rep.group.month": "Month", "rep.col.incidents": "Incidents", "rep.col.reached": "Reached",
    "rep.col.p50": "P50 (min)", "rep.col.p90": "P90 (min)", "rep.col.max": "Max (min)",
    "rep.col.share": "≤ {n} min", "rep.col.dispatch": "P90 call processing (s)",
    "rep.col.minutes": "Minutes", "rep.col.count": "Count", "rep.col.share_m": "%",
    "rep.table.priority": "By priority", "rep.table.district": "By kecamatan",
    "rep.table.team": "By team", "rep.table.month": "By month",
    "rep.table.fractiles": "Fractile table: on scene within M minutes",
    "rep.error": "The report could not be loaded: {detail}",
    "rep.map.share": "Within target", "rep.map.share_title": "Kelurahan: on scene within target",
    "rep.map.points_title": "Incidents", "rep.map.on_time": "On time", "rep.map.late": "Late",
    "rep.map.not_reached": "Not reached",
    "rep.map.truncated": "The map shows the {n} newest incidents of the period.",
    "team.waiting": "Standing by — no assignment.", "team.gps_waiting": "Waiting for GPS…",
    "team.navigate": "Navigate", "team.map": "Map", "team.clear_on_scene": "Done on scene (no transport)",
    "status.queued": "Queued", "status.assigned": "Assigned", "status.acknowledged": "Acknowledged",
    "status.en_route": "En route", "status.on_scene": "On scene", "status.transporting": "Transporting",
    "status.at_hospital": "At hospital", "status.closed": "Closed", "status.cancelled": "Cancelled",
    "team.available": "Available", "team.dispatched": "Dispatched", "team.en_route": "En route",
    "team.on_scene": "On scene", "team.transporting": "Transporting", "team.at_hospital": "At hospital",
    "team.out_of_service": "Out of service", "action.acknowledge": "ACKNOWLEDGE",
    "action.en_route": "EN ROUTE", "action.on_scene": "ON SCENE", "action.transporting": "TRANSPORTING",
    "action.at_hospital": "AT HOSPITAL", "action.clear": "CLEAR",
    "result.assigned": "Team {team} sent · arrives in about {eta} min",
    "result.queued": "All teams busy — incident queued", "result.error": "Failed: {detail}",
    "duty.on": "On", "duty.off": "Off", "pos.base": "base", "pos.gps": "GPS {age} ago",
    "signal.lost": "signal lost", "minutes": "{n} min", "team.offline": "Offline — {n} steps waiting",
    "team.online": "Online", "team.offline_short": "Offline", "team.pending": "{n} steps waiting to send",
    "team.eta": "ETA {eta} min", "team.gps_ok": "GPS on", "team.gps_off": "GPS unavailable",
    "priority.1": "PRIORITY 1 · RED", "priority.2": "PRIORITY 2 · YELLOW", "priority.3": "PRIORITY 3 · GREEN",
    "detail.assign": "Send", "callbacks.done": "Done", "callbacks.none": "None",
    "line.active": "Active number: {number}", "line.critical": "ALL LINES DOWN — primary kept: {number}",
    "line.override": "forced by an admin",
    "notes": "Notes", "address": "Address", "caller": "Caller", "district": "District", "team": "Team",
    "received": "Received",
    "complaints": ["Shortness of breath", "Chest pain", "Unconscious", "Traffic accident", "Bleeding",
      "Seizure", "Childbirth", "Stroke", "Burns", "High fever (child)", "Fall / fracture",
      "Poisoning", "Other"],
  },
};

function lang() { return localStorage.getItem("lang") === "en" ? "en" : "id"; }

// t("key", {name: value}): the string in the chosen language (Indonesian by default).
function t(key, values) {
  const table = I18N[lang()];
  let text = key in table ? table[key] : (key in I18N.id ? I18N.id[key] : key);
  if (typeof text !== "string") return text;
  for (const [name, value] of Object.entries(values || {})) text = text.replace(`{${name}}`, value);
  return text;
}

function applyLanguage() {
  document.documentElement.lang = lang();
  if (lang() === "en") {
    for (const el of document.querySelectorAll("[data-i18n]")) {
      const key = el.dataset.i18n;
      if (key in I18N.en) el.textContent = I18N.en[key];
    }
    for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
      const key = el.dataset.i18nPlaceholder;
      if (key in I18N.en) el.placeholder = I18N.en[key];
    }
  }
  for (const button of document.querySelectorAll(".lang-toggle")) {
    button.textContent = lang() === "en" ? "Bahasa Indonesia" : "English";
    button.addEventListener("click", () => {
      localStorage.setItem("lang", lang() === "en" ? "id" : "en");
      location.reload();
    });
  }
}
applyLanguage();
