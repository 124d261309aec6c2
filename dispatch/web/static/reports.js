// The health office's reports page: a period (from/to dates in the query string, so a
// view can be linked and printed), summary cards, the charts (SVG drawn by the
// service), the tables, the map of late arrivals (reports-map.js) and the workload,
// calls and lines sections (reports-activity.js). Every text from the service goes in
// as text (el()), never as markup.
"use strict";

const $ = (id) => document.getElementById(id);
const TZ = document.querySelector('meta[name="report-timezone"]').content || "Asia/Makassar";
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const GROUPINGS = ["priority", "district", "team", "month", "kelurahan"];
const CHARTS = [
  ["response-histogram", "rep.chart.histogram"], ["response-fractiles", "rep.chart.fractiles"],
  ["trend-weekly", "rep.chart.trend_weekly"], ["trend-monthly", "rep.chart.trend_monthly"],
  ["p90-by-district", "rep.chart.district"], ["p90-by-team", "rep.chart.team"],
  ["calls-by-hour-weekday", "rep.chart.calls_heatmap"],
  ["incidents-by-hour-weekday", "rep.chart.heatmap"],
];

// ---- numbers and dates, in the page's language ---------------------------------------
const locale = () => (lang() === "en" ? "en-GB" : "id-ID");

// fmt(12.34) -> "12,3" in Indonesian, "12.3" in English; "—" for null.
function fmt(value, digits = 1) {
  if (value === null || value === undefined) return "—";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
}

function pct(share) {
  if (share === null || share === undefined) return "—";
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 })
    .format(share);
}

const minutes = (seconds) => (seconds === null || seconds === undefined ? "—" : fmt(seconds / 60, 1));

function parseDay(text) {
  const [y, m, d] = text.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}
const dayText = (date) => date.toISOString().slice(0, 10);

function shiftDays(text, days) {
  const date = parseDay(text);
  date.setUTCDate(date.getUTCDate() + days);
  return dayText(date);
}

// The first day of the month `back` months before the month of `text`.
function monthStart(text, back) {
  const date = parseDay(text);
  return dayText(new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - back, 1)));
}

// Today in the city's time zone, as YYYY-MM-DD.
function today() {
  return new Intl.DateTimeFormat("en-CA", { timeZone: TZ, year: "numeric", month: "2-digit",
                                            day: "2-digit" }).format(new Date());
}

const QUICK = {
  "7d": (day) => [shiftDays(day, -6), day],
  "30d": (day) => [shiftDays(day, -29), day],
  "this-month": (day) => [monthStart(day, 0), day],
  "last-month": (day) => [monthStart(day, 1), shiftDays(monthStart(day, 0), -1)],
  "12m": (day) => [monthStart(day, 11), day],
};

function longDate(text) {
  if (!DAY.test(text)) return text;
  return new Intl.DateTimeFormat(locale(), { day: "numeric", month: "long", year: "numeric",
                                             timeZone: "UTC" }).format(parseDay(text));
}

function monthLabel(key) {
  if (!/^\d{4}-\d{2}$/.test(key)) return key;
  return new Intl.DateTimeFormat(locale(), { month: "long", year: "numeric", timeZone: "UTC" })
    .format(parseDay(`${key}-01`));
}

// ---- the period ------------------------------------------------------------------------
// From the query string; missing dates default to the last 30 days (today included).
function readPeriod() {
  const params = new URLSearchParams(location.search);
  const [defaultFrom, defaultTo] = QUICK["30d"](today());
  return { from: params.get("from") || defaultFrom, to: params.get("to") || defaultTo };
}

const periodQuery = (period) => new URLSearchParams({ from: period.from, to: period.to }).toString();

function showPeriod(period) {
  const form = $("period-form");
  form.from.value = DAY.test(period.from) ? period.from : "";
  form.to.value = DAY.test(period.to) ? period.to : "";
  $("period-label").textContent = `${longDate(period.from)} – ${longDate(period.to)} (${TZ})`;
  document.title = `${t("rep.print_title")} ${period.from} – ${period.to}`;
  const query = periodQuery(period);
  $("download-csv").href = `/api/v1/reports/response-times.csv?${query}`;
  $("download-xlsx").href = `/api/v1/reports/response-times.xlsx?${query}`;
}

for (const button of document.querySelectorAll("[data-quick]")) {
  button.addEventListener("click", () => {
    const [from, to] = QUICK[button.dataset.quick](today());
    const form = $("period-form");
    form.from.value = from;
    form.to.value = to;
    form.requestSubmit();
  });
}

// ---- cards -------------------------------------------------------------------------------
function setCard(id, value, note, over) {
  const card = $(id);
  card.querySelector(".card-value").textContent = value;
  const noteEl = card.querySelector(".card-note");
  if (noteEl) noteEl.textContent = note || "";
  card.classList.toggle("over", Boolean(over));
}

function renderCards(report) {
  const total = report.total;
  const target = report.targets.response_s;
  const dispatchRef = report.targets.dispatch_s;
  const response = total ? total.intervals.response_s : { n: 0, p90: null, share_within_target: null };
  const dispatch = total ? total.intervals.dispatch_s : { p90: null };
  $("card-share").querySelector(".card-label").textContent = t("rep.card.share", { n: fmt(target / 60, 1) });
  setCard("card-incidents", fmt(total ? total.count : 0, 0), t("rep.card.reached", { n: fmt(response.n, 0) }));
  setCard("card-share", pct(response.share_within_target),
          t("rep.card.share_note", { n: fmt(Math.round((response.share_within_target || 0) * response.n), 0),
                                     m: fmt(response.n, 0) }),
          response.share_within_target !== null && response.share_within_target < 0.9);
  setCard("card-p90", response.p90 === null ? "—" : `${minutes(response.p90)} ${t("rep.min")}`,
          t("rep.card.target", { n: fmt(target / 60, 1) }), response.p90 !== null && response.p90 > target);
  setCard("card-dispatch", dispatch.p90 === null ? "—" : `${fmt(dispatch.p90, 0)} ${t("rep.sec")}`,
          t("rep.card.nfpa", { n: fmt(dispatchRef, 0) }), dispatch.p90 !== null && dispatch.p90 > dispatchRef);
  setCard("card-cancelled", fmt(total ? total.cancelled : 0, 0));
  setCard("card-open", fmt(total ? total.open : 0, 0));
  setCard("card-reassigned", fmt(total ? total.reassigned : 0, 0));
  // Assignments whose ETA came from the roads (OSM graph, OSRM) rather than the
  // straight-line estimate.
  const sources = report.eta_sources || {};
  const road = (sources.osm || 0) + (sources.osrm || 0);
  setCard("card-eta-road", fmt(road, 0), t("rep.card.eta_note", { n: fmt(sources.geodesic || 0, 0) }));
}

// ---- charts --------------------------------------------------------------------------
function renderCharts(period) {
  const query = `${periodQuery(period)}&lang=${lang()}`;
  $("charts").replaceChildren(...CHARTS.map(([name, key]) => el("figure", { class: `chart chart-${name}` },
    el("img", { src: `/api/v1/reports/charts/${name}.svg?${query}`, alt: t(key), "data-chart": name }))));
}

// ---- tables --------------------------------------------------------------------------
const GROUP_LABELS = {
  priority: (key) => t(`rep.priority.${key}`),
  district: (key) => key || t("rep.unknown"),
  team: (key) => key || t("rep.no_team"),
  month: monthLabel,
};

// A row: its label as a row head, then its cells (text).
function dataRow(label, cells, cls) {
  return el("tr", { class: cls }, el("th", { scope: "row" }, label), cells.map((c) => el("td", {}, c)));
}

// A report table named `name` (data-group): caption, column heads, body rows ("no data"
// when there are none) and an optional footer row.
function reportTable(name, caption, heads, rows, foot, cls) {
  return el("table", { class: cls ? `report-table ${cls}` : "report-table", "data-group": name },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, heads.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: heads.length, class: "muted" }, t("rep.no_data")))),
    foot ? el("tfoot", {}, foot) : null);
}

function groupRow(label, group, cls) {
  const response = group.intervals.response_s;
  return dataRow(label, [fmt(group.count, 0), fmt(response.n, 0), minutes(response.p50),
    minutes(response.p90), minutes(response.max), pct(response.share_within_target),
    fmt(group.intervals.dispatch_s.p90, 0)], cls);
}

function groupTable(grouping, report) {
  const target = fmt(report.targets.response_s / 60, 1);
  const heads = [t(`rep.group.${grouping}`), t("rep.col.incidents"), t("rep.col.reached"),
    t("rep.col.p50"), t("rep.col.p90"), t("rep.col.max"), t("rep.col.share", { n: target }),
    t("rep.col.dispatch")];
  const rows = report.groups.map((g) => groupRow(GROUP_LABELS[grouping](g.key), g));
  return reportTable(grouping, t(`rep.table.${grouping}`), heads, rows,
                     report.total ? groupRow(t("rep.total"), report.total, "total") : null);
}

// The fractile table in three blocks of ten minutes side by side.
function fractileTable(report) {
  const items = report.fractiles;
  const targetMin = report.targets.response_s / 60;
  const heads = [0, 1, 2].flatMap(() => [t("rep.col.minutes"), t("rep.col.count"), t("rep.col.share_m")]);
  const rows = [];
  for (let i = 0; i < 10; i++) {
    rows.push(el("tr", {}, [0, 10, 20].flatMap((offset) => {
      const item = items[i + offset];
      if (!item) return [el("td", {}), el("td", {}), el("td", {})];
      const cls = item.minutes === targetMin ? "target" : null;
      return [el("th", { scope: "row", class: cls }, `≤ ${item.minutes}`),
        el("td", { class: cls }, fmt(item.count, 0)), el("td", { class: cls }, pct(item.share))];
    })));
  }
  return reportTable("fractiles", t("rep.table.fractiles"), heads, rows, null, "fractiles");
}

// Assignments that reached their team by SMS, and what it cost (docs/sms.md).
async function renderSmsCard(period) {
  const sms = await api("GET", `/api/v1/reports/sms?${periodQuery(period)}`);
  setCard("card-sms", fmt(sms.acknowledged_by_sms, 0),
          t("rep.card.sms_note", { sent: fmt(sms.sms_sent, 0),
                                   ack: sms.sms_ack_p50_s === null ? "—" : fmt(sms.sms_ack_p50_s, 0),
                                   app: sms.app_ack_p50_s === null ? "—" : fmt(sms.app_ack_p50_s, 0),
                                   esc: fmt(sms.escalated, 0) }));
}

function renderTables(reports) {
  $("tables").replaceChildren(
    ...["priority", "district", "team", "month"].map((g) => groupTable(g, reports[g])),
    fractileTable(reports.priority));
}

// ---- loading -------------------------------------------------------------------------
async function loadReports(period) {
  const query = periodQuery(period);
  const answers = await Promise.all(GROUPINGS.map((g) =>
    api("GET", `/api/v1/reports/response-times?${query}&group_by=${g}`)));
  return Object.fromEntries(GROUPINGS.map((g, i) => [g, answers[i]]));
}

async function main() {
  const period = readPeriod();
  showPeriod(period);
  let reports;
  try {
    reports = await loadReports(period);
  } catch (err) {
    $("report-error").hidden = false;
    $("report-error").textContent = t("rep.error", { detail: err.message });
    return;
  }
  renderCards(reports.priority);
  renderCharts(period);
  renderTables(reports);
  await Promise.all([LateMap.draw(period, reports.kelurahan), Activity.draw(period),
                     renderSmsCard(period)]);
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  $("report-error").hidden = false;
  $("report-error").textContent = t("rep.error", { detail: err.message });
  console.error(err);
});
