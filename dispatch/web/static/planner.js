// The planner page: edit one or two scenarios (teams on the map, shifts, call rate),
// run them in the service's background worker with a progress bar, then show the
// results (planner-results.js) or the recommended bases. The API: /api/v1/planner/*.
"use strict";

const POLL_MS = 300;
const state = { defaults: null, slots: [null, null], editing: 0, compare: false,
                busy: false, searchSlot: 0 };

const clone = (value) => JSON.parse(JSON.stringify(value));
const scenario = () => state.slots[state.editing];

// ---- shifts: "7-15, 23-7" <-> [[7, 15], [23, 7]] ----------------------------------------
function shiftsText(shifts) {
  return (shifts || [[0, 24]]).map((s) => (Array.isArray(s) ? `${s[0]}-${s[1]}` : `${s.start}-${s.end}`))
    .join(", ");
}

// The shifts of `text`, or the text itself when it is not a list of hours (the
// service then names the field).
function parseShifts(text) {
  const parts = text.split(",").map((p) => p.trim()).filter(Boolean);
  const shifts = parts.map((p) => p.match(/^(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)$/));
  if (!parts.length || shifts.some((m) => !m)) return text;
  return shifts.map((m) => [Number(m[1]), Number(m[2])]);
}

// A number typed in a field, or what was typed (the service names it when wrong).
function numberOf(text) {
  return text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
}

// ---- the editor ------------------------------------------------------------------------
function teamRow(team, i) {
  const field = (key) => `teams[${i}].${key}`;
  const input = (key, value, attrs = {}) => el("input", { "data-key": key, "data-field": field(key),
    value: value === undefined || value === null ? "" : String(value), ...attrs });
  const kind = el("select", { "data-key": "kind", "data-field": field("kind") },
    state.defaults.kinds.map((k) => el("option", { value: k, selected: (team.kind || "als") === k },
                                        t(`pl.kind.${k}`))));
  return el("tr", { "data-team": i },
    el("td", {}, input("code", team.code, { maxlength: 32, class: "code" })), el("td", {}, kind),
    el("td", {}, input("base_name", team.base_name, { maxlength: 120 })),
    el("td", {}, input("lat", team.base && team.base.lat, { "data-field": field("base.lat"), class: "coord" })),
    el("td", {}, input("lon", team.base && team.base.lon, { "data-field": field("base.lon"), class: "coord" })),
    el("td", {}, input("shifts", shiftsText(team.shifts), { class: "shifts" })),
    el("td", {}, el("button", { type: "button", class: "link remove", onclick: () => removeTeam(i) },
                    t("pl.remove"))));
}

function renderEditor() {
  const s = scenario();
  const form = $("scenario-form");
  form.name.value = s.name || "";
  form.calls_per_hour.value = s.calls_per_hour ?? state.defaults.defaults.calls_per_hour;
  form.target_min.value = s.target_min ?? state.defaults.defaults.target_min;
  form.transport_pct.value = Math.round(100 * (s.transport_share ?? state.defaults.defaults.transport_share));
  $("router-choice").hidden = !state.defaults.roads;
  form.router.value = state.defaults.roads && s.travel && s.travel.router === "service" ? "service" : "geodesic";
  $("teams").replaceChildren(...s.teams.map(teamRow));
  const preset = state.defaults.presets.findIndex((p) => p.name === s.name);
  $("preset").value = preset >= 0 ? String(preset) : "";
  renderTabs();
  EditMap.showBases(s.teams);
}

function renderTabs() {
  for (const tab of document.querySelectorAll(".scenario-tabs .tab")) {
    const slot = Number(tab.dataset.slot);
    tab.setAttribute("aria-selected", slot === state.editing ? "true" : "false");
    tab.disabled = slot === 1 && !state.compare;
    tab.textContent = `${String.fromCharCode(65 + slot)} · ${state.slots[slot].name || ""}`;
  }
}

// The edited scenario from the form (every other field of it kept as it was).
function readForm() {
  const s = scenario();
  const form = $("scenario-form");
  s.name = form.name.value;
  s.calls_per_hour = numberOf(form.calls_per_hour.value);
  s.target_min = numberOf(form.target_min.value);
  const pct = numberOf(form.transport_pct.value);
  s.transport_share = typeof pct === "number" ? pct / 100 : pct;
  // Over HTTP a scenario names no file: "service" plans on the service's own road graph.
  s.travel = { ...(s.travel || {}), router: state.defaults.roads ? form.router.value : "geodesic" };
  s.teams = [...$("teams").children].map((row) => {
    const value = (key) => row.querySelector(`[data-key="${key}"]`).value;
    return { code: value("code"), kind: value("kind"), base_name: value("base_name"),
             base: { lat: numberOf(value("lat")), lon: numberOf(value("lon")) },
             shifts: parseShifts(value("shifts")) };
  });
  EditMap.showBases(s.teams);
  renderTabs();
}

function nextCode(teams) {
  const used = new Set(teams.map((team) => team.code));
  let n = teams.length + 1;
  while (used.has(`T${n}`)) n += 1;
  return `T${n}`;
}

function addTeamAt(site, kind = "als", slot = state.editing) {
  if (slot === state.editing) readForm();
  const teams = state.slots[slot].teams;
  teams.push({ code: nextCode(teams), kind, base_name: site.name,
               base: { lat: site.lat, lon: site.lon }, shifts: [[0, 24]] });
  renderEditor();
}

function removeTeam(i) {
  readForm();
  scenario().teams.splice(i, 1);
  renderEditor();
}

// ---- errors ----------------------------------------------------------------------------
function clearErrors() {
  $("run-error").hidden = true;
  $("run-error").replaceChildren();
  for (const node of document.querySelectorAll(".invalid")) node.classList.remove("invalid");
}

function showError(err) {
  const box = $("run-error");
  box.hidden = false;
  if (err.status === 422 && err.problem.errors) {
    box.replaceChildren(el("p", {}, t("pl.run.invalid")), el("ul", {},
      err.problem.errors.map((e) => el("li", { "data-field": e.field }, `${e.field}: ${e.message}`))));
    markFields(err.problem.errors);
  } else if (err.status === 503) {
    box.replaceChildren(t("pl.run.busy"));
  } else {
    box.replaceChildren(t("pl.run.error", { detail: err.message }));
  }
}

// Mark the edited scenario's inputs that an error names ("scenario.teams[0].base.lat").
function markFields(errors) {
  for (const e of errors) {
    const match = e.field.match(/^scenarios?(?:\[(\d+)\])?\.(.+)$/);
    if (!match || Number(match[1] || state.searchSlot) !== state.editing) continue;
    for (const node of document.querySelectorAll("#scenario-form [data-field]")) {
      if (match[2] === node.dataset.field || match[2].startsWith(`${node.dataset.field}[`)
          || match[2].startsWith(`${node.dataset.field}.`)) node.classList.add("invalid");
    }
  }
}

// ---- running ---------------------------------------------------------------------------
function runOptions() {
  const form = $("run-form");
  return { replications: numberOf(form.replications.value), days: numberOf(form.days.value),
           seed: numberOf(form.seed.value) };
}

function setBusy(busy) {
  state.busy = busy;
  $("run-button").disabled = busy;
  $("search-button").disabled = busy;
  document.body.dataset.runStatus = busy ? "running" : document.body.dataset.runStatus;
}

function showProgress(run) {
  $("run-state").hidden = false;
  $("run-progress").value = run.progress;
  const texts = {
    queued: () => t("pl.run.queued"),
    running: () => t("pl.run.running", { done: run.replications_done, total: run.replications_total }),
    done: () => t("pl.run.done", { s: Fmt.number(runtime(run.result), 1) }),
    failed: () => t("pl.run.failed", { detail: run.error || "" }),
  };
  $("run-text").textContent = texts[run.status]();
}

// Seconds the worker spent: the result's own, or its scenarios' together.
function runtime(result) {
  if (!result) return null;
  if (result.runtime_s !== undefined) return result.runtime_s;
  return (result.scenarios || []).reduce((sum, s) => sum + s.runtime_s, 0);
}

async function follow(run) {
  for (;;) {
    showProgress(run);
    if (run.status === "done" || run.status === "failed") return run;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    run = await api("GET", `/api/v1/planner/runs/${encodeURIComponent(run.id)}`);
  }
}

async function start(kind) {
  if (state.busy) return;
  readForm();
  clearErrors();
  state.searchSlot = state.editing;
  const body = { ...runOptions() };
  if (kind === "search") {
    const form = $("run-form");
    body.scenario = scenario();
    body.search_bases = { k: Number(form.k.value), kind: form.kind.value };
  } else if (state.compare) {
    body.scenarios = state.slots;
  } else {
    body.scenario = scenario();
  }
  setBusy(true);
  try {
    const run = await follow(await api("POST", "/api/v1/planner/runs", body));
    document.body.dataset.runStatus = run.status;
    if (run.status !== "done") return;
    if (kind === "search") Results.showSearch(run, useBases);
    else await Results.show(run);
    document.body.dataset.runStatus = "shown";
  } catch (err) {
    document.body.dataset.runStatus = "error";
    if (err.status === 404) $("run-text").textContent = t("pl.run.lost");
    else showError(err);
  } finally {
    setBusy(false);
  }
}

function useBases(row, result) {
  row.sites.forEach((name, i) => addTeamAt({ name, ...row.points[i] }, result.kind, state.searchSlot));
}

// ---- set-up ----------------------------------------------------------------------------
function wire() {
  const presets = state.defaults.presets;
  $("preset").replaceChildren(el("option", { value: "", disabled: true }, t("pl.preset_pick")),
                              ...presets.map((p, i) => el("option", { value: i }, p.name)));
  $("preset").addEventListener("change", (event) => {
    state.slots[state.editing] = clone(presets[Number(event.target.value)]);
    renderEditor();
  });
  $("scenario-form").addEventListener("input", (event) => {
    if (event.target.id !== "preset") readForm();
  });
  $("scenario-form").addEventListener("submit", (event) => event.preventDefault());
  $("add-team").addEventListener("click", () => {
    const s = scenario();
    const last = s.teams[s.teams.length - 1];
    addTeamAt(last ? { name: last.base_name, ...last.base } : { name: "", ...state.defaults.sites[0] });
  });
  $("compare").addEventListener("change", (event) => {
    readForm();
    state.compare = event.target.checked;
    state.editing = state.compare ? state.editing : 0;
    renderEditor();
  });
  for (const tab of document.querySelectorAll(".scenario-tabs .tab")) {
    tab.addEventListener("click", () => {
      readForm();
      state.editing = Number(tab.dataset.slot);
      renderEditor();
    });
  }
  $("run-form").addEventListener("submit", (event) => { event.preventDefault(); start("run"); });
  $("search-button").addEventListener("click", () => start("search"));
}

async function main() {
  state.defaults = await api("GET", "/api/v1/planner/defaults");
  const presets = state.defaults.presets;
  state.slots = [clone(presets[0]), clone(presets[presets.length - 1] || presets[0])];
  EditMap.create(state.defaults.sites, (site) => addTeamAt(site));
  wire();
  renderEditor();
  document.body.dataset.ready = "true";
}

main().catch((err) => {
  showError(err);
  console.error(err);
});
