// The call in hand: picking up (or taking a call the telephony gateway opened), then
// either making it an incident or closing it with a disposition; beside the form the
// caller's history and block, possible duplicates of the emergency being typed in, and
// the handset's own position (AML). Also the call log. Uses dashboard.js's state, map,
// setPick, readIncident and teamCode, and live.js's api() and el(): every text from the
// service or a caller goes in as text.
"use strict";

const CALL_LOG_HOURS = 24;
const CALL_LOG_SHOWN = 30;
const DEBOUNCE_MS = 300;
const AML_ZOOM = 17;            // a radius of tens of metres is visible
const MIN_NUMBER_DIGITS = 6;    // fewer typed digits: not a number to look up yet
Object.assign(state, { calls: [], current: null, history: null, duplicates: [], aml: null });
const amlLayer = L.layerGroup().addTo(map);
const callForm = $("incident-form");

function dispositionLabel(name) { return t("rep.disp." + name); }
function numberLabel(number) { return number || t("call.withheld_short"); }
function localTime(iso) { return new Date(iso).toLocaleTimeString(); }

// One change at a time: a second click while the first is on its way does nothing (a
// double click must not open two calls nor make two incidents).
let busy = false;
function oneAtATime(action) {
  return async (...args) => {
    if (busy) return;
    busy = true;
    try { await action(...args); } finally { busy = false; }
  };
}

function say(kind, text) {
  const out = $("incident-result");
  out.className = `result ${kind}`;
  out.textContent = text;
}

// ---- the call log and the calls ringing --------------------------------------------
async function refreshCalls() {
  state.calls = (await api("GET", `/api/v1/calls?hours=${CALL_LOG_HOURS}`)).items;
}

// Ringing: open and nobody has taken it (a call an operator picked up is theirs).
function isRinging(call) { return call.status === "open" && !call.taken_by; }

function callRow(call) {
  const what = call.status === "open" ? t("log.open") : dispositionLabel(call.disposition);
  return el("li", { class: `call-row ${call.status}${call.blocked ? " blocked" : ""}`, "data-id": call.id },
    el("time", {}, localTime(call.received_at)),
    el("span", { class: "number" }, numberLabel(call.caller_number)),
    el("span", { class: "disposition" }, what),
    call.incident_id ? el("span", { class: "incident-ref" }, `#${call.incident_id}`) : null,
    call.blocked ? el("strong", { class: "blocked-flag" }, t("call.blocked_flag")) : null,
    call.taken_by ? el("span", { class: "taken-by" }, t("call.taken_by", { user: call.taken_by })) : null);
}

function ringingItem(call) {
  return el("li", { class: `ringing-call${call.blocked ? " blocked" : ""}`, "data-id": call.id },
    el("span", { class: "number" }, numberLabel(call.caller_number)),
    el("time", {}, localTime(call.received_at)),
    call.blocked ? el("strong", { class: "blocked-flag" }, t("call.blocked_flag")) : null,
    el("button", { type: "button", class: "take", onclick: () => takeCall(call) }, t("call.take")));
}

function renderCalls() {
  const current = state.current;
  const ringing = state.calls.filter((c) => isRinging(c) && !(current && current.id === c.id));
  $("ringing-box").hidden = ringing.length === 0;
  $("ringing").replaceChildren(...ringing.map(ringingItem));
  const shown = state.calls.slice(0, CALL_LOG_SHOWN);
  $("call-log").replaceChildren(...(shown.length ? shown.map(callRow)
    : [el("li", { class: "muted" }, t("callbacks.none"))]));
  $("call-state").className = `call-state${current ? " active" : ""}`;
  $("call-state").textContent = current
    ? t("call.in_hand", { id: current.id, number: numberLabel(current.caller_number),
                          at: localTime(current.received_at) })
      + (current.status === "ended" ? ` · ${t("call.hung_up")}` : "")
    : t("call.none");
  callForm.caller_number.readOnly = Boolean(current);
  callForm.withheld.disabled = Boolean(current);
  $("pick-up").disabled = Boolean(current);
  // The incident open in the detail takes the call in hand while both are there (only
  // an active incident: the service refuses a duplicate of an ended one).
  const selected = state.incidents.some((inc) => inc.id === state.selected);
  $("detail-attach").hidden = !(current && selected && current.status === "open");
}

// ---- picking up, taking, finishing ---------------------------------------------------
// The number the form names: null when withheld; an error when neither is given.
function formNumber() {
  if (callForm.withheld.checked) return null;
  const typed = callForm.caller_number.value.trim();
  if (!typed) throw new Error(t("call.need_number"));
  return typed;
}

// The call in hand, opened now (with the form's number) if the operator had not yet.
async function ensureCall() {
  if (state.current) return state.current;
  const call = await api("POST", "/api/v1/calls", { caller_number: formNumber() });
  state.calls = upsert(state.calls, call).sort(newestFirst);
  hold(call);
  return call;
}

const newestFirst = (a, b) => Date.parse(b.received_at) - Date.parse(a.received_at) || b.id - a.id;

function hold(call) {
  state.current = call;
  callForm.withheld.checked = call.caller_number === null;
  callForm.caller_number.value = call.caller_number || "";
  renderCalls();
  loadHistory(call.caller_number);
  scheduleDuplicates();
}

const pickUp = oneAtATime(async function pickUp() {
  try {
    await ensureCall();
    say("", "");
    $("place-search").focus();   // next: where is the emergency
  } catch (err) {
    say("error", t("result.error", { detail: err.message }));
  }
});

// A call the gateway opened: the operator takes it, unless another operator was
// first (409: who took it is said, and the call leaves the ringing list); any AML
// that came first is shown.
const takeCall = oneAtATime(async function takeCall(call) {
  if (state.current) return;
  let taken;
  try {
    taken = await api("POST", `/api/v1/calls/${call.id}/take`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) {
      const user = err.problem.taken_by;
      say("error", user ? t("call.taken_conflict", { id: call.id, user })
                        : t("result.error", { detail: err.message }));
      // As the service holds it now (taken, or ended): it no longer rings here.
      const now = user ? { ...call, taken_by: user }
        : await api("GET", `/api/v1/calls/${call.id}`).catch(() => ({ ...call, status: "ended" }));
      state.calls = upsert(state.calls, now).sort(newestFirst);
      renderCalls();
    } else {
      say("error", t("result.error", { detail: err.message }));
    }
    return;
  }
  state.calls = upsert(state.calls, taken).sort(newestFirst);
  say("", "");
  hold(taken);
  try {
    const detail = await api("GET", `/api/v1/calls/${taken.id}`);
    if (detail.aml.length && state.current && state.current.id === taken.id) showAml(detail.aml[0]);
  } catch (err) { console.error(err); }
});

// The call is done with: the form, the panels beside it and the AML circle are cleared.
function finishCall() {
  state.current = null;
  callForm.reset();
  if (pickMarker) { pickMarker.remove(); pickMarker = null; }
  state.history = null; state.duplicates = []; state.aml = null;
  renderHistory(); renderDuplicates(); renderAml();
  renderCalls();
  document.querySelector(".call-form").scrollTop = 0;   // ready for the next call, result in view
}

// End the call in hand (opening it first if need be) with `disposition`.
async function endCall(disposition, incidentId) {
  const call = await ensureCall();
  if (call.status === "ended") return call;   // the gateway ended it: nothing to send
  const body = incidentId ? { disposition, incident_id: incidentId } : { disposition };
  const ended = await api("POST", `/api/v1/calls/${call.id}/end`, body);
  state.calls = upsert(state.calls, ended).sort(newestFirst);
  return ended;
}

const closeWith = oneAtATime(async function closeWith(disposition) {
  if (disposition === "duplicate") { say("queued", t("dup.choose")); return; }
  try {
    const ended = await endCall(disposition);
    finishCall();
    say("assigned", t("call.closed", { id: ended.id, what: dispositionLabel(disposition) }));
  } catch (err) {
    say("error", t("result.error", { detail: err.message }));
  }
});

const attachDuplicate = oneAtATime(async function attachDuplicate(incidentId) {
  try {
    const ended = await endCall("duplicate", incidentId);
    finishCall();
    say("assigned", t("dup.attached", { id: ended.id, incident: incidentId }));
  } catch (err) {
    say("error", t("result.error", { detail: err.message }));
  }
});

// "Make incident": the incident names the call; the call then ends as `incident`.
const makeIncident = oneAtATime(async function makeIncident() {
  try {
    const call = await ensureCall();
    const body = { ...readIncident(callForm), call_id: call.id, caller_number: call.caller_number };
    const result = await api("POST", "/api/v1/incidents", body);
    await endCall("incident", result.id);
    finishCall();
    say(result.status, result.assignment
      ? `${t("result.assigned", { team: teamCode(result.assignment.team_id),
                                  eta: Math.max(1, Math.round(result.assignment.eta_s / 60)) })} ${etaSource(result.assignment)}`
      : t("result.queued"));
  } catch (err) {
    say("error", t("result.error", { detail: err.message }));
  }
});

// ---- the caller's history and block ----------------------------------------------------
let historyAsked = 0;
async function loadHistory(number) {
  const asked = ++historyAsked;
  if (!number) { state.history = null; renderHistory(); return; }
  try {
    const history = await api("GET", `/api/v1/calls?number=${encodeURIComponent(number)}`);
    if (asked === historyAsked) { state.history = history; renderHistory(); }
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 422)) console.error(err);
  }
}

function historyCall(call) {
  return el("li", { class: "history-call" }, el("time", {}, new Date(call.received_at).toLocaleString()),
    ` · ${call.status === "open" ? t("log.open") : dispositionLabel(call.disposition)}`,
    call.incident_id ? ` · #${call.incident_id}` : "");
}

function historyIncident(inc) {
  return el("li", { class: "history-incident" }, el("time", {}, new Date(inc.received_at).toLocaleString()),
    ` · #${inc.id} ${inc.complaint} · ${t("status." + inc.status)}`);
}

function renderHistory() {
  const history = state.history;
  const warning = $("block-warning");
  const blocked = history && history.block.blocked;
  warning.hidden = !blocked;
  warning.textContent = blocked ? t("history.blocked", {
    until: new Date(history.block.until).toLocaleString(), reason: history.block.reason }) : "";
  if (!history) {
    $("caller-history").replaceChildren(el("p", { class: "muted" },
      t(callForm.withheld.checked ? "history.withheld" : "history.unknown")));
    return;
  }
  const earlier = history.items.filter((c) => !(state.current && c.id === state.current.id));
  $("caller-history").replaceChildren(
    el("p", { class: "history-summary" }, t("history.summary", {
      number: history.number, calls: earlier.length, incidents: history.incidents.length })),
    el("ul", { class: "history-calls" }, earlier.map(historyCall)),
    el("ul", { class: "history-incidents" }, history.incidents.map(historyIncident)));
}

// ---- possible duplicates -----------------------------------------------------------------
let duplicatesTimer = null;
let duplicatesAsked = 0;
function scheduleDuplicates() {
  clearTimeout(duplicatesTimer);
  duplicatesTimer = setTimeout(() => loadDuplicates().catch(console.error), DEBOUNCE_MS);
}

// The query of what the form says now: position and number, either, or null.
function duplicatesQuery() {
  const params = new URLSearchParams();
  const lat = Number(callForm.lat.value.replace(",", "."));
  const lon = Number(callForm.lon.value.replace(",", "."));
  if (callForm.lat.value.trim() && callForm.lon.value.trim() && Number.isFinite(lat)
      && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
    params.set("lat", lat); params.set("lon", lon);
  }
  const number = state.current ? state.current.caller_number
    : (callForm.withheld.checked ? null : callForm.caller_number.value.trim());
  if (number && number.replace(/\D/g, "").length >= MIN_NUMBER_DIGITS) params.set("number", number);
  return params.toString() || null;
}

async function loadDuplicates() {
  const asked = ++duplicatesAsked;
  const query = duplicatesQuery();
  let items = [];
  if (query) {
    try {
      items = (await api("GET", `/api/v1/incidents/duplicates?${query}`)).items;
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 422)) throw err;
    }
  }
  if (asked !== duplicatesAsked) return;   // a newer question is on its way
  state.duplicates = items;
  renderDuplicates();
}

function duplicateItem(inc) {
  const why = inc.match.map((m) => (m === "number" ? t("dup.same_number")
    : t("dup.distance", { m: inc.distance_m }))).join(" · ");
  return el("li", { class: `duplicate p${inc.priority}`, "data-id": inc.id },
    el("span", { class: "what" }, `#${inc.id} ${inc.complaint}`),
    el("span", { class: "where" }, inc.address),
    el("span", { class: "why" }, `${why} · ${t("status." + inc.status)} · ${t("minutes", {
      n: Math.floor(minutesSince(inc.received_at)) })}`,
       inc.call_count > 1 ? ` · ${t("calls.count", { n: inc.call_count })}` : ""),
    el("button", { type: "button", class: "attach", onclick: () => attachDuplicate(inc.id) },
       t("dup.attach")));
}

function renderDuplicates() {
  const items = state.duplicates;
  $("duplicates").replaceChildren(...(items.length ? items.map(duplicateItem)
    : [el("li", { class: "muted" }, t("dup.none"))]));
}

// ---- the handset's own position (AML) -----------------------------------------------------
function showAml(location) {
  state.aml = location;
  renderAml();
}

function renderAml() {
  amlLayer.clearLayers();
  const aml = state.aml;
  if (!aml) {
    $("aml").replaceChildren(el("p", { class: "muted" }, t("aml.none")));
    return;
  }
  const radius = aml.radius_m || 0;
  L.circle([aml.lat, aml.lon], { radius, color: "#6a1b9a", weight: 2, fillOpacity: 0.12 }).addTo(amlLayer);
  L.circleMarker([aml.lat, aml.lon], { radius: 5, color: "#6a1b9a", fillOpacity: 1 })
    .bindTooltip(el("span", {}, t("aml.title"))).addTo(amlLayer);
  map.setView([aml.lat, aml.lon], Math.max(map.getZoom(), AML_ZOOM));
  $("aml").replaceChildren(
    el("p", { class: "aml-fix" }, t("aml.fix", { lat: aml.lat.toFixed(5), lon: aml.lon.toFixed(5),
      r: Math.round(radius), at: localTime(aml.at), method: aml.method })),
    el("button", { type: "button", id: "aml-use", class: "primary",
                   onclick: () => setPick(aml.lat, aml.lon) }, t("aml.use")));
}

// ---- events --------------------------------------------------------------------------------
function callChanged(data) {
  state.calls = upsert(state.calls, data).sort(newestFirst);
  if (state.current && state.current.id === data.id) state.current = { ...state.current, ...data };
}

// A call the gateway opened rings (a short low tone; a blocked number's call is silent).
function callCreated(data) {
  const known = state.calls.some((c) => c.id === data.id);
  callChanged(data);
  if (!known && data.status === "open" && !data.blocked) beep(1, 523);
}

Object.assign(APPLY, {
  "call.created": callCreated,
  "call.taken": callChanged,   // another dashboard took it: it stops ringing here
  "call.ended": callChanged,
  "call.located": (data) => {
    if (state.current && state.current.id === data.call_id) showAml(data.location);
  },
  "blocklist.added": blockChanged,
  "blocklist.lifted": blockChanged,
});

function blockChanged(data) {
  const number = state.current ? state.current.caller_number : null;
  if (number && number === data.number) loadHistory(number);
}

// ---- the form's wiring ---------------------------------------------------------------------
let numberTimer = null;
callForm.caller_number.addEventListener("input", () => {
  clearTimeout(numberTimer);
  const typed = callForm.caller_number.value.trim();
  if (typed.replace(/\D/g, "").length < MIN_NUMBER_DIGITS) return;
  numberTimer = setTimeout(() => loadHistory(typed), DEBOUNCE_MS);
  scheduleDuplicates();
});
callForm.withheld.addEventListener("change", () => {
  if (callForm.withheld.checked) callForm.caller_number.value = "";
  loadHistory(null);
  scheduleDuplicates();
});
callForm.lat.addEventListener("input", scheduleDuplicates);
callForm.lon.addEventListener("input", scheduleDuplicates);
callForm.addEventListener("submit", (event) => { event.preventDefault(); makeIncident(); });
$("pick-up").addEventListener("click", pickUp);
for (const button of document.querySelectorAll("#dispositions button")) {
  button.addEventListener("click", () => closeWith(button.dataset.disposition));
}
$("detail-attach").addEventListener("click", () => {
  if (state.selected) attachDuplicate(state.selected).then(() => { $("detail-attach").hidden = true; });
});
