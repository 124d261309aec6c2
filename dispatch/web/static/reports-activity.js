// The reports page's activity sections, for the page's period: the teams' workload and
// the time no team was free (/api/v1/reports/workload), the 112 calls by disposition
// with the dropped calls' call-backs (/calls), the 112 lines' availability and
// failovers (/lines). Uses reports.js's helpers (fmt, pct, reportTable, dataRow...) and
// live.js's api() and el(): every text from the service goes in as text.
"use strict";

const Activity = (() => {
  const LONGEST = 5;  // the intervals without a free team listed

  const hours = (seconds) => fmt((seconds || 0) / 3600, 1);
  const inMinutes = (seconds) => (seconds === null || seconds === undefined ? "—"
    : `${minutes(seconds)} ${t("rep.min")}`);

  // The translation of `prefix.name` when there is one, else the name itself (as text).
  function named(prefix, name) {
    const key = `${prefix}.${name}`;
    const text = t(key);
    return text === key ? String(name) : text;
  }

  // An instant (RFC 3339) as the city's local date and time.
  function localTime(iso) {
    return new Intl.DateTimeFormat(locale(), {
      timeZone: TZ, day: "numeric", month: "short", year: "numeric", hour: "2-digit",
      minute: "2-digit", hourCycle: "h23" }).format(new Date(iso));
  }

  // 41400 -> "11 jam 30 mnt", 7200 -> "2 jam", 1800 -> "30 mnt", 20 -> "< 1 mnt": whole
  // minutes, the seconds left out as on a clock.
  function duration(seconds) {
    const total = Math.floor((seconds || 0) / 60);
    if (!total && seconds > 0) return `< 1 ${t("rep.min")}`;
    const h = Math.floor(total / 60);
    const m = total % 60;
    if (!h) return `${fmt(m, 0)} ${t("rep.min")}`;
    return m ? t("rep.act.hm", { h: fmt(h, 0), m: fmt(m, 0) }) : t("rep.act.h", { h: fmt(h, 0) });
  }

  function card(name, label, value, note) {
    return el("div", { class: "card-box count", "data-card": name },
      el("span", { class: "card-label" }, label), el("strong", { class: "card-value" }, value),
      note ? el("span", { class: "card-note" }, note) : null);
  }

  const cards = (...items) => el("div", { class: "cards mini" }, items);
  const block = (name, ...children) => el("div", { class: `activity-block ${name}` }, children);

  // ---- workload -------------------------------------------------------------------------
  function loadTable(name, caption, first, rows, label) {
    const heads = [first, t("rep.col.incidents"), t("rep.act.busy_h"), t("rep.act.shift_h"),
      t("rep.act.utilisation")];
    return reportTable(name, caption, heads, rows.map((row) => dataRow(label(row),
      [fmt(row.incidents, 0), hours(row.busy_s), hours(row.on_shift_s), pct(row.utilisation)])));
  }

  function workload(report) {
    const gaps = report.no_team_free;
    // Indonesian from i18n.js; in English the service's own definition.
    const definition = lang() === "en" ? report.definition : t("rep.act.definition");
    const longest = gaps.intervals.slice(0, LONGEST).map((gap) => dataRow(localTime(gap.start),
      [localTime(gap.end), duration(gap.duration_s)]));
    return [
      el("p", { class: "hint definition" }, definition),
      el("div", { class: "activity-grid" },
        block("by-team", loadTable("workload-team", t("rep.act.by_team"), t("rep.act.team"),
                                   report.teams, (row) => row.team_code)),
        block("by-shift", loadTable("workload-shift", t("rep.act.by_shift"), t("rep.act.shift"),
                                    report.by_shift, (row) => named("rep.shift", row.shift)))),
      el("h3", {}, t("rep.act.no_free")),
      el("div", { class: "activity-grid" },
        block("no-free-cards", cards(
          card("no-free-time", t("rep.act.no_free_time"), duration(gaps.seconds)),
          card("no-free-share", t("rep.act.no_free_share"), pct(gaps.share)),
          card("no-free-count", t("rep.act.no_free_count"), fmt(gaps.count, 0)))),
        block("no-team-free", reportTable("no-team-free",
          t("rep.act.longest", { n: fmt(LONGEST, 0) }),
          [t("rep.act.start"), t("rep.act.end"), t("rep.act.duration")], longest))),
    ];
  }

  // ---- calls ----------------------------------------------------------------------------
  function calls(report) {
    const dropped = report.dropped;
    const delay = dropped.callback_delay_s;
    const rows = report.dispositions.map((row) => dataRow(
      row.disposition === null ? t("rep.disp.open") : named("rep.disp", row.disposition),
      [fmt(row.count, 0), pct(row.share)]));
    const total = dataRow(t("rep.total"), [fmt(report.total, 0), pct(report.total ? 1 : null)],
                          "total");
    return [el("div", { class: "activity-grid" },
      block("call-cards", cards(
        card("calls-total", t("rep.act.calls_total"), fmt(report.total, 0)),
        card("calls-dropped", t("rep.act.dropped"), fmt(dropped.count, 0)),
        card("calls-called-back", t("rep.act.called_back"), fmt(dropped.called_back, 0),
             t("rep.act.called_back_note", { n: fmt(dropped.count, 0) })),
        card("callback-p50", t("rep.act.cb_p50"), inMinutes(delay.p50),
             t("rep.act.cb_note", { n: fmt(delay.n, 0) })),
        card("callback-p90", t("rep.act.cb_p90"), inMinutes(delay.p90),
             t("rep.act.cb_note", { n: fmt(delay.n, 0) })),
        card("callback-max", t("rep.act.cb_max"), inMinutes(delay.max),
             t("rep.act.cb_note", { n: fmt(delay.n, 0) })))),
      block("dispositions", reportTable("dispositions", t("rep.act.dispositions"),
        [t("rep.act.disposition"), t("rep.col.count"), t("rep.col.share_m")], rows,
        report.dispositions.length ? total : null)))];
  }

  // ---- lines ----------------------------------------------------------------------------
  function lines(report) {
    const numbers = new Map(report.lines.map((line) => [line.line_id, line.number]));
    const number = (id) => (numbers.has(id) ? numbers.get(id) : `#${id}`);
    const heads = [t("rep.act.number"), t("rep.act.label"), t("rep.act.up_h"), t("rep.act.down_h"),
      t("rep.act.unknown_h"), t("rep.act.availability"), t("rep.act.failovers_away")];
    const rows = report.lines.map((line) => dataRow(line.number, [line.label,
      hours(line.seconds.up), hours(line.seconds.down), hours(line.seconds.unknown),
      pct(line.availability), fmt(line.failovers_away, 0)]));
    const failovers = report.failovers.map((f) => dataRow(localTime(f.at), [
      `${number(f.from_line_id)} → ${number(f.to_line_id)}`,
      f.duration_s === null ? t("rep.act.not_back") : fmt(f.duration_s / 60, 1)],
      f.duration_s === null ? "not-back" : null));
    const more = report.failover_count > report.failovers.length
      ? el("p", { class: "hint" }, t("rep.act.failovers_more", {
        n: fmt(report.failovers.length, 0), m: fmt(report.failover_count, 0) })) : null;
    return [el("div", { class: "activity-grid lines" },
      block("lines-table", reportTable("lines", t("rep.act.lines_table"), heads, rows)),
      block("failovers",
        cards(card("critical", t("rep.act.critical"), duration(report.critical_s),
                   t("rep.act.critical_note")),
              card("failover-count", t("rep.act.failover_count"), fmt(report.failover_count, 0))),
        reportTable("failovers", t("rep.act.failovers"),
          [t("rep.act.at"), t("rep.act.from_to"), t("rep.act.duration_min")], failovers), more))];
  }

  // Fetch the three reports for `period` and draw their sections.
  async function draw(period) {
    const query = periodQuery(period);
    const [load, call, line] = await Promise.all(["workload", "calls", "lines"].map((name) =>
      api("GET", `/api/v1/reports/${name}?${query}`)));
    $("workload").replaceChildren(...workload(load));
    $("calls").replaceChildren(...calls(call));
    $("lines").replaceChildren(...lines(line));
  }

  return { draw, localTime, duration };
})();
