// The operators' dashboard: live incident list, team board, map, incident detail.
// The call in hand (picking up, the form, dispositions, caller history, duplicates, AML)
// is calls.js, loaded after this file; both start once the page is parsed.
"use strict";

const TARGET_MIN = 15;          // Parepare's arrival target
const UNACKED_ALERT_S = 30;     // an assignment not acknowledged this long rings
const PARE_PARE = [-4.015, 119.645];
const state = { incidents: [], teams: [], callbacks: [], hotline: null, selected: null,
                alerted: new Set(), unreachable: new Map(), sms: [] };
const $ = (id) => document.getElementById(id);

// ---- map ----------------------------------------------------------------------------
const map = L.map("map", { zoomControl: true }).setView(PARE_PARE, 13);
const tileUrl = document.querySelector('meta[name="tile-url"]').content;
if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(map);
// Without tiles, the service's own road graph (when it has one) draws the streets
// (roadmap.js) and the kelurahan carry their names.
const ownRoads = !tileUrl && document.querySelector('meta[name="road-map"]').content === "on";
const layers = { incidents: L.layerGroup().addTo(map), teams: L.layerGroup().addTo(map) };
let pickMarker = null;

function setPick(lat, lon) {
  const form = $("incident-form");
  form.lat.value = lat.toFixed(6);
  form.lon.value = lon.toFixed(6);
  if (pickMarker) pickMarker.setLatLng([lat, lon]);
  else pickMarker = L.circleMarker([lat, lon], { radius: 9, color: "#000", weight: 3 }).addTo(map);
  form.lat.dispatchEvent(new Event("input", { bubbles: true }));   // duplicates look again
}
map.on("click", (e) => setPick(e.latlng.lat, e.latlng.lng));

async function loadDistricts() {
  const data = await api("GET", "/api/v1/districts");
  const withShape = data.features.filter((f) => f.geometry);
  if (withShape.length) {
    L.geoJSON({ type: "FeatureCollection", features: withShape }, {
      style: (f) => (f.properties.level === "kelurahan"
        // dashed, as boundaries are on maps, so as not to read as streets
        ? { color: "#8e7cc3", weight: 1, dashArray: "4 4", fillOpacity: 0 }
        : { color: "#555", weight: 1.5, fillOpacity: 0.04 }),
      onEachFeature: (f, layer) => layer.bindTooltip(el("span", {}, f.properties.name)),
    }).addTo(map);
  }
  if (!tileUrl) labelKelurahan(data.features);
}

// Each kelurahan's name at its centroid, always shown (a map without tiles has no other).
function labelKelurahan(features) {
  for (const f of features) {
    const c = f.properties.centroid;
    if (f.properties.level !== "kelurahan" || !c || c.lat === null) continue;
    L.tooltip({ permanent: true, direction: "center", className: "district-label",
                interactive: false })
      .setLatLng([c.lat, c.lon]).setContent(el("span", {}, f.properties.name)).addTo(map);
  }
}

const PRIORITY_COLOURS = { 1: "#c62828", 2: "#f9a825", 3: "#2e7d32" };

function drawMap() {
  layers.incidents.clearLayers();
  layers.teams.clearLayers();
  for (const inc of state.incidents) {
    L.circleMarker([inc.location.lat, inc.location.lon], {
      radius: 8, color: PRIORITY_COLOURS[inc.priority], fillOpacity: 0.8,
    }).bindTooltip(el("span", {}, `#${inc.id} ${inc.complaint}`))
      .on("click", () => openDetail(inc.id)).addTo(layers.incidents);
  }
  for (const team of state.teams) {
    const lost = team.signal === "lost";
    // The code always beside the marker; the status in the marker's title.
    L.marker([team.position.lat, team.position.lon], {
      icon: L.divIcon({ className: `team-icon ${team.status}${lost ? " lost" : ""}`,
                        html: "", iconSize: [16, 16] }),
      title: `${team.code} · ${t("team." + team.status)}`,
    }).bindTooltip(el("span", {}, team.code), {
      permanent: true, direction: "right", offset: [8, 0], className: `team-label ${team.status}`,
    }).addTo(layers.teams);
  }
}

// ---- lists --------------------------------------------------------------------------
function elapsedLabel(inc) {
  const minutes = minutesSince(inc.received_at);
  return t("minutes", { n: Math.floor(minutes) });
}

function teamCode(id) {
  const team = state.teams.find((x) => x.id === id);
  return team ? team.code : String(id);
}

// Which router computed an ETA (eta_source): by road (OSM graph, OSRM) or a straight-line
// estimate, so that the operator knows how far to trust it.
function etaSource(withEta) {
  return withEta.eta_source ? `(${t("eta." + withEta.eta_source)})` : "";
}

function incidentItem(inc) {
  const late = minutesSince(inc.received_at) > TARGET_MIN && !inc.on_scene_at;
  return el("li", { class: `incident p${inc.priority} ${inc.status}`, "data-id": inc.id,
                    onclick: () => openDetail(inc.id) },
    el("span", { class: "prio-dot" }, String(inc.priority)),
    el("span", { class: "what" }, `#${inc.id} ${inc.complaint}`),
    el("span", { class: "where" }, inc.address),
    el("span", { class: "status" }, t("status." + inc.status),
       inc.team_id ? ` · ${teamCode(inc.team_id)}` : ""),
    inc.call_count > 1 ? el("span", { class: "calls" }, t("calls.count", { n: inc.call_count })) : null,
    el("span", { class: `timer${late ? " late" : ""}`, "data-received": inc.received_at,
                 "data-on-scene": inc.on_scene_at || "" }, elapsedLabel(inc)));
}

function positionLabel(team) {
  if (team.position.source !== "gps") return t("pos.base");
  return t("pos.gps", { age: t("minutes", { n: Math.floor(minutesSince(team.position.at)) }) });
}

// Which channel last reached the team with an assignment (the app, or SMS), and when.
function channelLabel(team) {
  if (!team.reached_via) return "—";
  return `${t("channel." + team.reached_via)} ${new Date(team.reached_at).toLocaleTimeString()}`;
}

function teamNumbers(team) {
  return [...new Set([...(team.sms_numbers || []), ...(team.phone ? [team.phone] : [])])];
}

function teamRow(team) {
  return el("tr", { class: `team ${team.status}${team.signal === "lost" ? " lost" : ""}`,
                    "data-code": team.code },
    el("td", {}, team.code),
    el("td", { class: "team-status" }, t("team." + team.status)),
    el("td", {}, t(team.on_duty ? "duty.on" : "duty.off")),
    el("td", {}, positionLabel(team),
       team.signal === "lost" ? el("strong", { class: "lost-flag" }, ` ⚠ ${t("signal.lost")}`) : null),
    el("td", { class: `team-channel ${team.reached_via || ""}` }, channelLabel(team)));
}

// The alarm of teams that answered neither the app nor SMS: call them on these numbers.
// Built from the team board (a team is `unreachable` until it is heard from), with the
// incident named by the `team.unreachable` event when this page saw it.
function renderSms() {
  const silent = state.teams.filter((team) => team.status === "unreachable");
  const alarm = $("sms-alarm");
  alarm.hidden = !silent.length;
  alarm.replaceChildren(...silent.map((team) => el("div", { class: "unreachable", "data-code": team.code },
    t("alarm.unreachable", { team: team.code, incident: state.unreachable.get(team.id) || "—" }),
    " ", ...teamNumbers(team).map((n) => el("a", { href: `tel:${n}`, class: "call-number" }, n)))));
  $("sms-list").replaceChildren(...state.sms.slice(0, 6).map((m) => el("li", { class: `sms ${m.outcome}` },
    el("time", {}, new Date(m.at).toLocaleTimeString()), ` ${m.team_code || m.from_number}: «${m.text}» → `,
    t("sms." + m.outcome))));
}

function render() {
  $("incident-list").replaceChildren(...state.incidents.map(incidentItem));
  $("team-list").replaceChildren(...state.teams.map(teamRow));
  renderLines();
  renderSms();
  renderCalls();
  drawMap();
}

function tickTimers() {
  for (const timer of document.querySelectorAll(".timer")) {
    const minutes = minutesSince(timer.dataset.received);
    timer.textContent = t("minutes", { n: Math.floor(minutes) });
    timer.classList.toggle("late", minutes > TARGET_MIN && !timer.dataset.onScene);
  }
}

function raiseAlerts() {
  for (const inc of state.incidents) {
    const queuedRed = inc.status === "queued" && inc.priority === 1;
    const unacked = inc.status === "assigned" && inc.assigned_at
      && minutesSince(inc.assigned_at) * 60 > UNACKED_ALERT_S;
    const key = `${inc.id}:${inc.status}`;
    if ((queuedRed || unacked) && !state.alerted.has(key)) {
      state.alerted.add(key);
      beep(queuedRed ? 3 : 2, queuedRed ? 988 : 660);
    }
  }
}

// The whole picture over HTTP: on the first connection, after a `resync` and after a gap
// in `seq`. Everything else arrives in the events themselves (applyEvent). Events that
// arrive while the lists are being fetched are applied again on top of them: the lists
// may have been read before those changes, and each event carries the whole thing.
let arrived = null;   // events received during a refresh (null: none running)
async function refresh() {
  arrived = [];
  try {
    const [incidents, teams] = await Promise.all([
      api("GET", "/api/v1/incidents?active=true"), api("GET", "/api/v1/teams")]);
    state.teams = teams.items;
    state.incidents = incidents.items;
    await Promise.all([refreshLines(), refreshSms(), refreshCalls()]);
    for (const frame of arrived) APPLY[frame.name](frame.data);
  } finally {
    arrived = null;
  }
  render();
  raiseAlerts();
}

let refreshTimer = null;
let refreshing = null;
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    if (refreshing) await refreshing.catch(() => {});   // one at a time
    refreshing = refresh();
    refreshing.catch(console.error);
  }, 60);
}

// ---- applying events -------------------------------------------------------------------
const ENDED = new Set(["closed", "cancelled"]);
const byPriority = (a, b) => a.priority - b.priority || Date.parse(a.received_at) - Date.parse(b.received_at);

// Replace (or add) `item` in `list` by id; drop it when `keep` is false.
function upsert(list, item, keep = true) {
  const rest = list.filter((x) => x.id !== item.id);
  return keep ? [...rest, item] : rest;
}

const APPLY = {
  "incident.created": (data) => { state.incidents = upsert(state.incidents, data).sort(byPriority); },
  "incident.updated": (data) => {
    state.incidents = upsert(state.incidents, data, !ENDED.has(data.status)).sort(byPriority);
  },
  "team.updated": (data) => {
    state.teams = upsert(state.teams, data).sort((a, b) => a.code.localeCompare(b.code));
  },
  "line.state": (data) => {
    state.hotline = { number: data.active_number, label: data.active_label,
                      critical: data.critical, override: data.override };
  },
  "callback.created": (data) => { state.callbacks = upsert(state.callbacks, data); },
  "callback.updated": (data) => { state.callbacks = upsert(state.callbacks, data); },
  "team.unreachable": (data) => {
    state.unreachable.set(data.team_id, `#${data.incident_id}`);
    beep(4, 880);
  },
  "sms.received": (data) => {
    state.sms = [data, ...state.sms.filter((m) => m.inbound_id !== data.inbound_id)];
    if (data.outcome === "not_understood" || data.outcome === "unknown_sender") beep(1, 520);
  },
};

function applyEvent(frame) {
  const apply = APPLY[frame.name];
  if (!apply) return;            // calls and assignments: their incident.updated follows
  apply(frame.data);
  if (arrived) arrived.push(frame);
  render();
  raiseAlerts();
  const about = frame.data.incident_id || (frame.name.startsWith("incident.") && frame.data.id);
  if (state.selected && about === state.selected) openDetail(state.selected, true).catch(console.error);
}

// The last SMS from teams, shaped as their `sms.received` events.
async function refreshSms() {
  const replies = await api("GET", "/api/v1/sms/replies");
  state.sms = replies.items.map((r) => ({ inbound_id: r.id, from_number: r.from, text: r.text,
    team_code: r.team_id ? teamCode(r.team_id) : null, outcome: r.outcome, at: r.received_at }));
}

// ---- lines and call-backs (shown when the line service is present) ---------------------
async function refreshLines() {
  try {
    state.hotline = await api("GET", "/api/v1/hotline");
    state.callbacks = (await api("GET", "/api/v1/callbacks")).items;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
}

function renderLines() {
  const hotline = state.hotline;
  const banner = $("line-banner");
  banner.hidden = !hotline;
  if (hotline) {
    banner.className = `line-banner ${hotline.critical ? "critical" : "ok"}`;
    banner.textContent = t(hotline.critical ? "line.critical" : "line.active",
                           { number: `${hotline.number} (${hotline.label})` })
      + (hotline.override ? ` · ${t("line.override")}` : "");
  }
  const open = state.callbacks.filter((c) => !c.done);
  $("callback-list").replaceChildren(...(open.length ? [] : [el("li", { class: "muted" }, t("callbacks.none"))]),
    ...open.map((c) => el("li", { class: "callback" }, `${c.caller_number || "—"} · ${new Date(c.dropped_at).toLocaleTimeString()} `,
       el("button", { type: "button", onclick: () => api("POST", `/api/v1/callbacks/${c.id}/done`, {}) },
          t("callbacks.done")))));
}

// ---- detail -------------------------------------------------------------------------
async function openDetail(id, quiet) {
  state.selected = id;
  const [inc, candidates] = await Promise.all([
    api("GET", `/api/v1/incidents/${id}`), api("GET", `/api/v1/incidents/${id}/candidates`)]);
  $("detail").hidden = false;
  $("detail-title").textContent = `#${inc.id} · ${t("status." + inc.status)}`;
  const fields = [["caller", inc.caller_number || t("call.withheld_short")], ["address", inc.address],
    ["calls", String(inc.call_count)],
    ["district", inc.district || "—"], ["notes", inc.notes || "—"],
    ["team", inc.assignment ? `${teamCode(inc.assignment.team_id)} · ETA ${t("minutes", { n: Math.max(1, Math.round(inc.assignment.eta_s / 60)) })} ${etaSource(inc.assignment)}` : "—"]];
  $("detail-fields").replaceChildren(...fields.flatMap(([k, v]) => [el("dt", {}, t(k)), el("dd", { class: `f-${k}` }, v)]));
  $("detail-candidates").replaceChildren(...candidates.items.map((c) => el("li", {},
    `${c.code} · ${t("minutes", { n: Math.round(c.eta_s / 60) })} · ${(c.distance_m / 1000).toFixed(1)} km ${etaSource(c)} `,
    el("button", { type: "button", onclick: () => assign(id, c.team_id) }, t("detail.assign")))));
  $("detail-timeline").replaceChildren(...inc.events.map(timelineItem));
  renderCalls();   // whether the call in hand can be attached to this incident
  if (!quiet) $("detail").scrollTop = 0;
}

// One line of an incident's timeline; a call names its disposition and number.
function timelineItem(e) {
  const call = e.name.startsWith("call.");
  return el("li", { class: call ? "ev-call" : null },
    el("time", {}, new Date(e.at).toLocaleTimeString()), ` ${call ? t("ev." + e.name) : e.name}`,
    call && e.data.disposition ? ` · ${dispositionLabel(e.data.disposition)}` : "",
    call ? ` · ${e.data.caller_number || t("call.withheld_short")}` : "",
    !call && e.data.status ? ` → ${t("status." + e.data.status)}` : "",
    e.data.reason ? ` (${e.data.reason})` : "", e.data.via === "sms" ? " · SMS" : "");
}

async function assign(id, teamId) {
  await api("POST", `/api/v1/incidents/${id}/assign`, { team_id: teamId });
}

$("detail-close").addEventListener("click", () => { $("detail").hidden = true; state.selected = null; });
$("cancel-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await api("POST", `/api/v1/incidents/${state.selected}/cancel`, { reason: event.target.reason.value });
  event.target.reset();
});

// ---- call-taking form ----------------------------------------------------------------
function fillComplaints() {
  const select = $("complaint-choice");
  select.replaceChildren(...t("complaints").map((c) => el("option", { value: c }, c)));
}

function readIncident(form) {
  const lat = Number(form.lat.value.replace(",", "."));
  const lon = Number(form.lon.value.replace(",", "."));
  const detail = form.complaint_text.value.trim();
  const landmark = form.landmark.value.trim();
  const body = {
    caller_number: form.caller_number.value, location: { lat, lon },
    address: landmark ? `${form.address.value} (${landmark})` : form.address.value,
    complaint: detail ? `${form.complaint_choice.value}: ${detail}` : form.complaint_choice.value,
    priority: Number(form.priority.value), patients: Number(form.patients.value || 1),
    notes: form.notes.value,
  };
  if (form.required_kind.value) body.required_kind = form.required_kind.value;
  return body;
}

// Gazetteer: kelurahan, facilities and landmarks known to the service.
let places = [];
$("place-search").addEventListener("input", async (event) => {
  const q = event.target.value.trim();
  const chosen = places.find((p) => p.name === q);
  if (chosen) { setPick(chosen.lat, chosen.lon); map.setView([chosen.lat, chosen.lon], 16); return; }
  if (q.length < 2) return;
  try {
    places = (await api("GET", `/api/v1/places?q=${encodeURIComponent(q)}`)).items;
    $("place-list").replaceChildren(...places.map((p) => el("option", { value: p.name }, p.kind)));
  } catch (err) { /* gazetteer unavailable: coordinates and the map still work */ }
});

// ---- live ----------------------------------------------------------------------------
// A dashboard sees every event: a skipped seq means one was missed, so it asks again.
// Started once every script of the page has run, so that calls.js's handlers are there
// before the first event.
let live = null;
document.addEventListener("DOMContentLoaded", () => {
  live = new Live({
    onEvent: applyEvent,
    onResync: scheduleRefresh,
    onState: (up, fresh) => { $("conn-banner").hidden = up; if (up && fresh) scheduleRefresh(); },
    gapless: true,
  });
  fillComplaints();
  loadDistricts().catch(console.error);
  if (ownRoads) new RoadMap(map).start().catch(console.error);
  setInterval(tickTimers, 1000);
  setInterval(() => { raiseAlerts(); }, 5000);
});
