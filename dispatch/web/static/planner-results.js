// The planner page's results: one column of cards per scenario (side by side when
// comparing), the paired differences, the late-share map (planner-map.js), the
// fractile curves (SVG drawn by the service) and the teams' utilisation; or, for a
// search, the recommended bases. Every text from the service goes in as text (el()).
"use strict";

const Results = (() => {
  // [result key, label key, "share" | "min"]
  const METRICS = [
    ["late_share", "pl.card.late", "share"], ["late8_share", "pl.card.late8", "share"],
    ["mean_response_min", "pl.card.mean", "min"], ["p90_response_min", "pl.card.p90", "min"],
    ["p_wait", "pl.card.wait", "share"], ["utilisation", "pl.card.util", "share"],
  ];

  function value(figure, kind) {
    if (!figure) return "—";
    return kind === "share" ? Fmt.percent(figure.mean)
      : `${Fmt.number(figure.mean, 1)} ${t("pl.min")}`;
  }

  function ci(figure, kind) {
    if (!figure || !figure.ci95) return "";
    const [lo, hi] = figure.ci95;
    const show = (x) => (kind === "share" ? Fmt.percent(x) : Fmt.number(x, 1));
    return t("pl.ci", { lo: show(lo), hi: show(hi) });
  }

  function card(name, label, main, note, over) {
    return el("div", { class: over ? "card-box over" : "card-box", "data-card": name },
      el("span", { class: "card-label" }, label), el("strong", { class: "card-value" }, main),
      el("span", { class: "card-note" }, note));
  }

  function label(key, result) {
    return t(key, { n: Fmt.number(result.target_min, 0) });
  }

  function column(result, index) {
    const cards = METRICS.map(([key, labelKey, kind]) => card(key, label(labelKey, result),
      value(result[key], kind), ci(result[key], kind),
      key === "late_share" && result[key] && result[key].mean > 0.1));
    cards.push(card("floor_share", t("pl.card.floor"), Fmt.percent(result.floor_share, 2),
                    t("pl.card.floor_note")),
               card("calls", t("pl.card.calls"), Fmt.number(result.calls_per_replication, 0), ""));
    return el("section", { class: "result-column", "data-scenario": index },
      el("h3", {}, `${String.fromCharCode(65 + index)} · ${result.name}`),
      el("div", { class: "cards" }, cards));
  }

  function differences(items, result) {
    if (!items.length) return null;
    const heads = [t("pl.diff.metric"), t("pl.diff.mean"), t("pl.diff.ci")];
    const tables = items.map((diff) => el("table", { class: "report-table", "data-group": "differences" },
      el("caption", {}, `${t("pl.diff.title")}: ${diff.name}`),
      el("thead", {}, el("tr", {}, heads.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, METRICS.map(([key, labelKey, kind]) => {
        const figure = diff[key];
        const range = figure.ci95 ? `${Fmt.signed(figure.ci95[0], kind === "share")} – ${Fmt.signed(figure.ci95[1], kind === "share")}` : "";
        return el("tr", { "data-metric": key },
          el("th", { scope: "row" }, label(labelKey, result)),
          el("td", {}, Fmt.signed(figure.mean, kind === "share")), el("td", {}, range));
      }))));
    return el("div", { class: "diff-tables" }, tables);
  }

  function teamsTable(scenarios) {
    const heads = [t("pl.scenario_col"), t("pl.teams.code"), t("pl.teams.kind"), t("pl.teams.util"), ""];
    const rows = scenarios.flatMap((result, i) => result.teams.map((team) => el("tr", {},
      el("th", { scope: "row" }, String.fromCharCode(65 + i)), el("td", {}, team.code),
      el("td", {}, t(`pl.kind.${team.kind}`)), el("td", {}, Fmt.percent(team.utilisation.mean)),
      el("td", { class: "muted" }, ci(team.utilisation, "share")))));
    return el("table", { class: "report-table", "data-group": "team-utilisation" },
      el("caption", {}, t("pl.teams.title")),
      el("thead", {}, el("tr", {}, heads.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows));
  }

  function mapSwitch(scenarios) {
    const buttons = scenarios.map((result, i) => el("button", {
      type: "button", "data-scenario": i, "aria-pressed": i === 0 ? "true" : "false",
      onclick: async (event) => {
        for (const b of $("map-switch").children) b.setAttribute("aria-pressed", "false");
        event.currentTarget.setAttribute("aria-pressed", "true");
        await LateMap.draw(result);
      } }, `${String.fromCharCode(65 + i)} · ${result.name}`));
    $("map-switch").replaceChildren(...(scenarios.length > 1 ? buttons : []));
  }

  // Show a finished run of kind "run" or "compare".
  async function show(run) {
    const scenarios = run.result.scenarios || [run.result];
    const first = scenarios[0];
    $("search-results").hidden = true;
    $("results").hidden = false;
    $("results-note").textContent = t("pl.note", { reps: first.replications, days: first.days,
                                                   seed: first.seed });
    $("result-columns").replaceChildren(...scenarios.map(column));
    $("result-columns").classList.toggle("several", scenarios.length > 1);
    $("result-diff").replaceChildren(...[differences(run.result.differences || [], first)].filter(Boolean));
    $("result-teams").replaceChildren(teamsTable(scenarios));
    $("result-curve").replaceChildren(el("img", {
      src: `/api/v1/planner/runs/${encodeURIComponent(run.id)}/fractiles.svg?lang=${lang()}`,
      alt: t("pl.curve.alt") }));
    mapSwitch(scenarios);
    await LateMap.draw(first);
  }

  // Show a finished search; `onUse(row)` adds a recommended set to the scenario.
  function showSearch(run, onUse) {
    const result = run.result;
    $("search-results").hidden = false;
    $("search-note").textContent = t("pl.search.note", {
      late: Fmt.percent(result.current.late_share.mean), floor: Fmt.percent(result.current.floor_share, 2),
      n: result.sets_scored_by_floor, m: result.sets_simulated });
    const heads = ["#", t("pl.search.sites"), t("pl.search.late"), t("pl.search.floor"),
                   t("pl.search.vs_current"), ""];
    const rows = result.best.map((row, i) => el("tr", {},
      el("th", { scope: "row" }, String(i + 1)), el("td", { class: "sites" }, row.sites.join(", ")),
      el("td", {}, `${Fmt.percent(row.late_share.mean)} (${ci(row.late_share, "share")})`),
      el("td", {}, Fmt.percent(row.floor_share, 2)),
      el("td", {}, Fmt.signed(row.difference_from_current.late_share.mean, true)),
      el("td", {}, el("button", { type: "button", class: "use-bases", onclick: () => onUse(row, result) },
                      t("pl.search.use")))));
    $("search-table").replaceChildren(el("table", { class: "report-table", "data-group": "search" },
      el("thead", {}, el("tr", {}, heads.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, rows)));
  }

  return { show, showSearch };
})();
