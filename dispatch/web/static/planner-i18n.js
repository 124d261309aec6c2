// The planner page's words (Indonesian first, English second) and number formats.
// Loaded after i18n.js, whose applyLanguage() already ran: the page's own data-i18n
// elements are translated again here once the planner's English is known.
"use strict";

const $ = (id) => document.getElementById(id);

Object.assign(I18N.id, {
  "pl.run.queued": "Menunggu giliran…", "pl.run.running": "Mensimulasikan… {done} dari {total} replikasi",
  "pl.run.done": "Selesai dalam {s} detik", "pl.run.failed": "Gagal: {detail}",
  "pl.run.lost": "Hasil ini tidak ada lagi di server (dimulai ulang?). Jalankan sekali lagi.",
  "pl.run.busy": "Perencana sedang sibuk menjalankan simulasi lain. Coba lagi sebentar lagi.",
  "pl.run.invalid": "Skenario belum benar:", "pl.run.error": "Tidak dapat menjalankan: {detail}",
  "pl.remove": "Hapus", "pl.preset_pick": "(diubah) pilih skenario siap pakai…",
  "pl.card.late": "Terlambat (> {n} mnt)", "pl.card.late8": "Lebih dari 8 mnt",
  "pl.card.mean": "Rata-rata waktu tanggap", "pl.card.p90": "P90 waktu tanggap",
  "pl.card.wait": "Menunggu tim bebas", "pl.card.util": "Utilisasi tim",
  "pl.card.floor": "Batas jarak", "pl.card.floor_note": "terlambat walau semua tim siaga di pangkalan",
  "pl.card.calls": "Panggilan per replikasi", "pl.ci": "IK 95 %: {lo} – {hi}",
  "pl.min": "mnt", "pl.diff.title": "Selisih berpasangan (panggilan yang sama)",
  "pl.diff.metric": "Ukuran", "pl.diff.mean": "Selisih", "pl.diff.ci": "IK 95 %",
  "pl.teams.title": "Utilisasi per tim", "pl.teams.code": "Tim", "pl.teams.kind": "Jenis",
  "pl.teams.util": "Utilisasi", "pl.scenario_col": "Skenario",
  "pl.map.late": "Terlambat", "pl.map.calls": "Panggilan per replikasi",
  "pl.map.floor": "Batas jarak", "pl.map.legend": "Kelurahan: persentase terlambat",
  "pl.map.no_calls": "Tanpa panggilan", "pl.map.bases": "Pangkalan tim",
  "pl.curve.alt": "Kurva fraktil: tiba di lokasi dalam M menit",
  "pl.note": "{reps} replikasi × {days} hari, benih {seed}. Selang kepercayaan 95 % atas replikasi.",
  "pl.search.sites": "Pangkalan baru", "pl.search.late": "Terlambat", "pl.search.floor": "Batas jarak",
  "pl.search.vs_current": "Selisih dari sekarang", "pl.search.use": "Pakai",
  "pl.search.note": "Sekarang: terlambat {late}, batas jarak {floor}. {n} himpunan dinilai dari batas jarak, {m} disimulasikan.",
  "pl.kind.als": "ALS", "pl.kind.bls": "BLS", "pl.kind.motorbike": "Motor",
  "pl.router": "Waktu tempuh", "pl.router.geodesic": "garis lurus",
  "pl.router.service": "menurut jalan (peta layanan)",
});

Object.assign(I18N.en, {
  "pl.title": "Team planning (simulation)",
  "pl.heading": "How many teams, where and on which shifts keep the 15-minute promise?",
  "pl.intro": "A simulation of the service on the city's kelurahan and population, with the live service's own allocation rule. Results with 95 % confidence intervals.",
  "pl.scenario": "Scenario", "pl.compare": "Compare A with B", "pl.preset": "Start from",
  "pl.name": "Scenario name", "pl.rate": "Calls per hour", "pl.target": "Target (minutes)",
  "pl.transport": "Taken to hospital (%)", "pl.teams": "Teams",
  "pl.router": "Travel times", "pl.router.geodesic": "straight line",
  "pl.router.service": "by road (the service's map)",
  "pl.teams_hint": "Click a health facility on the map to add a team there.",
  "pl.col.code": "Code", "pl.col.kind": "Kind", "pl.col.base": "Base", "pl.col.lat": "Latitude",
  "pl.col.lon": "Longitude", "pl.col.shifts": "On duty (hours)", "pl.add_team": "+ Add a team",
  "pl.shift_hint": "On duty: 0-24 (all day), 7-15, or 7-15, 23-7.",
  "pl.map.site": "Health facility (click: add a team)", "pl.map.base": "This scenario's team bases",
  "pl.run": "Run", "pl.replications": "Replications", "pl.days": "Days per replication",
  "pl.seed": "Random seed", "pl.run_button": "Run the simulation", "pl.search_k": "New bases",
  "pl.search_kind": "New teams' kind", "pl.search_button": "Find the best bases",
  "pl.results": "Results", "pl.map.title": "Late arrivals by kelurahan",
  "pl.search_title": "Recommended bases",
  "pl.run.queued": "Waiting for its turn…", "pl.run.running": "Simulating… {done} of {total} replications",
  "pl.run.done": "Done in {s} s", "pl.run.failed": "Failed: {detail}",
  "pl.run.lost": "This run is no longer on the server (restarted?). Run it again.",
  "pl.run.busy": "The planner is busy with other simulations. Try again shortly.",
  "pl.run.invalid": "The scenario is not right yet:", "pl.run.error": "Cannot run: {detail}",
  "pl.remove": "Remove", "pl.preset_pick": "(edited) pick a ready-made scenario…",
  "pl.card.late": "Late (> {n} min)", "pl.card.late8": "Over 8 min", "pl.card.mean": "Mean response",
  "pl.card.p90": "P90 response", "pl.card.wait": "Waited for a free team",
  "pl.card.util": "Team utilisation", "pl.card.floor": "Distance floor",
  "pl.card.floor_note": "late even with every team at its base", "pl.card.calls": "Calls per replication",
  "pl.ci": "95 % CI: {lo} – {hi}", "pl.min": "min",
  "pl.diff.title": "Paired differences (the same calls)", "pl.diff.metric": "Measure",
  "pl.diff.mean": "Difference", "pl.diff.ci": "95 % CI",
  "pl.teams.title": "Utilisation by team", "pl.teams.code": "Team", "pl.teams.kind": "Kind",
  "pl.teams.util": "Utilisation", "pl.scenario_col": "Scenario",
  "pl.map.late": "Late", "pl.map.calls": "Calls per replication", "pl.map.floor": "Distance floor",
  "pl.map.legend": "Kelurahan: share late", "pl.map.no_calls": "No calls", "pl.map.bases": "Team bases",
  "pl.curve.alt": "Fractile curve: on scene within M minutes",
  "pl.note": "{reps} replications × {days} days, seed {seed}. 95 % confidence intervals over replications.",
  "pl.search.sites": "New bases", "pl.search.late": "Late", "pl.search.floor": "Distance floor",
  "pl.search.vs_current": "Difference from now", "pl.search.use": "Use",
  "pl.search.note": "Now: late {late}, distance floor {floor}. {n} sets scored by their floor, {m} simulated.",
  "pl.kind.als": "ALS", "pl.kind.bls": "BLS", "pl.kind.motorbike": "Motorbike",
});

if (lang() === "en") {
  for (const node of document.querySelectorAll("[data-i18n]")) {
    if (node.dataset.i18n in I18N.en) node.textContent = I18N.en[node.dataset.i18n];
  }
}

const Fmt = (() => {
  const locale = () => (lang() === "en" ? "en-GB" : "id-ID");
  // number(12.34) -> "12,3" in Indonesian, "12.3" in English; "—" for null.
  function number(value, digits = 1) {
    if (value === null || value === undefined || Number.isNaN(value)) return "—";
    return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
  }
  function percent(share, digits = 1) {
    if (share === null || share === undefined || Number.isNaN(share)) return "—";
    return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: digits })
      .format(share);
  }
  // A difference with its sign: "+1,2 mnt", "−3,4 %" (shares in percentage points).
  function signed(value, isShare) {
    if (value === null || value === undefined || Number.isNaN(value)) return "—";
    const text = new Intl.NumberFormat(locale(), { maximumFractionDigits: 1, signDisplay: "exceptZero" })
      .format(isShare ? 100 * value : value);
    return `${text} ${isShare ? "%" : t("pl.min")}`;
  }
  return { number, percent, signed };
})();
