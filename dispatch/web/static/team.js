// The medical team's phone: the current assignment, one big button for the next step,
// GPS every ~12 s, and a queue of steps that survives losing signal.
"use strict";

// The steps come from the service's transition table (dispatch/states.py):
// next[incident status] = the step to offer, after[step] = the status it leads to.
const STEPS = JSON.parse(document.getElementById("team-steps").textContent);
const NEXT = STEPS.next;
const AFTER = STEPS.after;
const GPS_EVERY_MS = 12000;
// A request of the phone unanswered this long is given up (a step stays queued and is
// sent again on a fresh connection): generous for a tiny request on a slow 2G link.
const REQUEST_TIMEOUT_MS = 15000;
const QUEUE_KEY = "dispatch112.pending";
const REFUSED_KEY = "dispatch112.refused";
// Answers that no retry can change: the step leaves the queue and is shown as refused.
const FINAL_REFUSALS = [404, 409, 422];
const $ = (id) => document.getElementById(id);
const phoneApi = (method, path, body) => api(method, path, body, { timeoutMs: REQUEST_TIMEOUT_MS });
let current = null;      // {incident, eta_s, ...} or null
let flushing = false;
let mustLogIn = false;   // the session is gone: steps wait for the team to log in again
// The live socket is up. A phone can have a network (navigator.onLine) that reaches
// nothing (a weak cell, a dead access point): only the socket says the service is there.
let reaching = false;

// ---- the step queue (localStorage, so a reload or a closed tab loses nothing) ----------
function pending() { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); }
function savePending(items) { localStorage.setItem(QUEUE_KEY, JSON.stringify(items)); showNet(); }

function newClientId() {
  return (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`).replace(/[^A-Za-z0-9_.:-]/g, "");
}

function tap(action) {
  if (!current) return;
  const step = { action, incident_id: current.incident.id, client_id: newClientId(),
                 at: new Date().toISOString() };
  savePending([...pending(), step]);
  current.incident.status = AFTER[action];   // show the step at once; the server confirms
  if (action === "clear") current = null;
  draw();
  flush();
}

// Steps the server refused for good, kept until the team dismisses them.
function refusedSteps() { return JSON.parse(localStorage.getItem(REFUSED_KEY) || "[]"); }
function saveRefused(items) { localStorage.setItem(REFUSED_KEY, JSON.stringify(items)); drawRefused(); }

function noteRefused(step, err) {
  saveRefused([...refusedSteps(), { action: step.action, incident_id: step.incident_id,
                                     status: err.status, detail: err.message, at: step.at }]);
}

function drawRefused() {
  const items = refusedSteps();
  const box = $("refused");
  box.hidden = items.length === 0;
  $("refused-list").replaceChildren(...items.map((item) => el("li", { class: "refused-step" },
    t("team.refused", { step: t("action." + item.action), why: t("team.why." + item.status) }))));
}

// The session is gone (token expired or revoked): keep the queue, ask for a new login.
function needLogIn() {
  mustLogIn = true;
  $("relogin").hidden = false;
  showNet();
}

// Send one step. Over HTTP first; a request unanswered in time most likely went out on
// a pooled connection the network dropped without a word (the browser may hold several
// such, each good for another wait), while the live socket proves itself alive by its
// frames: the step goes there then. Same client_id either way, so it counts once.
async function sendStep(step) {
  try {
    return await phoneApi("POST", "/api/v1/team/status", step);
  } catch (err) {
    if (err.name !== "AbortError" || !live.up) throw err;
    return live.ask({ type: "status", ...step }, step.client_id, REQUEST_TIMEOUT_MS);
  }
}

// Send queued steps in order. A step leaves the queue only when the server accepted it
// (2xx, a replay included) or refused it for a reason no retry can fix (404, 409, 422:
// then it is shown to the team). Anything else keeps it: no signal, 5xx, 429, and 401
// (log in again first; api() has already retried a stale CSRF token once).
async function flush() {
  if (flushing || mustLogIn || !pending().length) return;
  flushing = true;
  let refused = false;
  try {
    for (let items = pending(); items.length; items = pending()) {
      try {
        await sendStep(items[0]);
      } catch (err) {
        if (!(err instanceof ApiError) || !FINAL_REFUSALS.includes(err.status)) break;
        refused = true;
        noteRefused(items[0], err);
      }
      savePending(pending().slice(1));
    }
  } finally {
    flushing = false;
    showNet();
  }
  // A refused step means the card shows a state the server does not have: ask it.
  if (refused && !pending().length) loadAssignment().catch(() => {});
}

function showNet() {
  // A lost session outranks a missing socket: the socket is refused for that very reason.
  const online = navigator.onLine && (reaching || mustLogIn);
  const n = pending().length;
  const net = $("net-state");
  net.className = `net ${online && !mustLogIn ? "ok" : "off"}`;
  net.textContent = !online ? t("team.offline_short") : mustLogIn ? t("team.must_log_in") : t("team.online");
  const box = $("pending");
  box.hidden = n === 0 && online;
  box.textContent = online ? t("team.pending", { n }) : t("team.offline", { n });
}

// ---- the assignment card -------------------------------------------------------------
function draw() {
  $("idle").hidden = Boolean(current);
  $("card").hidden = !current;
  document.body.dataset.priority = current ? current.incident.priority : "";
  if (!current) return;
  const inc = current.incident;
  $("card").className = `card p${inc.priority}`;
  $("card-priority").textContent = t("priority." + inc.priority);
  $("card-status").textContent = t("status." + inc.status);
  $("card-complaint").textContent = inc.complaint;
  $("card-address").textContent = inc.address;
  $("card-notes").textContent = inc.notes || "";
  // More than one call about it (duplicates attached): more people are waiting there.
  $("card-calls").hidden = !(inc.call_count > 1);
  $("card-calls").textContent = inc.call_count > 1 ? t("calls.count", { n: inc.call_count }) : "";
  $("card-eta").textContent = t("team.eta", { eta: Math.max(1, Math.round(current.eta_s / 60)) });
  const { lat, lon } = inc.location;
  $("nav-geo").href = `geo:${lat},${lon}?q=${lat},${lon}`;
  $("nav-map").href = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=17/${lat}/${lon}`;
  const next = NEXT[inc.status];
  $("next-step").hidden = !next;
  $("next-step").textContent = next ? t("action." + next) : "";
  $("next-step").dataset.action = next || "";
  $("clear-on-scene").hidden = inc.status !== "on_scene";
}

function alarm() {
  beep(4, 988);
  if (navigator.vibrate) navigator.vibrate([400, 200, 400, 200, 800]);
}

// Show `assignment` (or none): steps still queued on the phone are ahead of the server,
// so they are shown applied; a new assignment rings.
let shown = 0;  // how many times the card was set (loadAssignment's check)
function show(assignment) {
  shown += 1;
  const before = current && current.id;
  current = assignment;
  for (const step of pending()) {
    if (current && step.incident_id === current.incident.id) current.incident.status = AFTER[step.action];
  }
  if (current && ["closed", "cancelled"].includes(current.incident.status)) current = null;
  if (current && current.id !== before && current.incident.status === "assigned") alarm();
  // The route shown is to the incident it was asked for: gone with it.
  if (!current || current.id !== before) $("route-panel").hidden = true;
  draw();
}

// An answer to GET /team/assignment that was on its way while the card changed (an
// event, or another answer) may be older than what the card shows (a new assignment
// rang, then the answer said "none"): it is not shown, and the phone asks again.
async function loadAssignment() {
  for (let tries = 0; tries < 5; tries++) {
    const seen = shown;
    const answer = (await phoneApi("GET", "/api/v1/team/assignment")).assignment;
    if (seen === shown) { show(answer); return; }
  }
}

// The events carry what the card needs: no need to ask the server again.
const APPLY = {
  "assignment.created": (d) => show({ id: d.assignment_id, incident_id: d.incident_id,
                                      team_id: d.team_id, eta_s: d.eta_s, distance_m: d.distance_m,
                                      incident: d.incident }),
  "assignment.withdrawn": (d) => { if (current && current.id === d.assignment_id) show(null); },
  "incident.updated": (d) => {
    if (current && current.incident.id === d.id) show({ ...current, incident: d });
  },
};

$("next-step").addEventListener("click", (e) => tap(e.target.dataset.action));
$("clear-on-scene").addEventListener("click", () => tap("clear"));
$("refused-dismiss").addEventListener("click", () => saveRefused([]));
// "Peta": the route inside the page when the service has a road graph (team-route.js),
// else the link to a map of the place.
$("nav-map").addEventListener("click", (e) => {
  if (typeof routeMapOn === "undefined" || !routeMapOn()) return;
  e.preventDefault();
  openRouteMap().catch(console.error);
});
$("route-close").addEventListener("click", () => { $("route-panel").hidden = true; });
SESSION.onUnauthorized = needLogIn;

// ---- GPS and screen ------------------------------------------------------------------
let lastFix = 0;
function startGps() {
  if (!navigator.geolocation) { $("gps-state").textContent = t("team.gps_off"); return; }
  navigator.geolocation.watchPosition((pos) => {
    $("gps-state").textContent = t("team.gps_ok");
    if (Date.now() - lastFix < GPS_EVERY_MS || !navigator.onLine) return;
    lastFix = Date.now();
    phoneApi("POST", "/api/v1/team/location", {
      lat: pos.coords.latitude, lon: pos.coords.longitude,
      accuracy_m: pos.coords.accuracy, at: new Date(pos.timestamp).toISOString(),
    }).catch(() => { lastFix = 0; });
  }, () => { $("gps-state").textContent = t("team.gps_off"); },
  { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 });
}

async function keepAwake() {
  try { if ("wakeLock" in navigator) await navigator.wakeLock.request("screen"); } catch (err) { /* not allowed now */ }
}
document.addEventListener("visibilitychange", () => { if (!document.hidden) keepAwake(); });

// ---- live ----------------------------------------------------------------------------
const live = new Live({
  onEvent: (frame) => { if (APPLY[frame.name]) APPLY[frame.name](frame.data); },
  // Only what the card shows: not the team's own position each time the phone sends it.
  events: Object.keys(APPLY),
  onResync: () => loadAssignment().catch(() => {}),
  // Back after a gap in signal: the socket replays what was missed since the last seq.
  onState: (up, fresh) => {
    reaching = up;
    if (up) { flush(); if (fresh) loadAssignment().catch(() => {}); }
    showNet();
  },
});

window.addEventListener("online", () => { showNet(); flush(); });
window.addEventListener("offline", showNet);
setInterval(flush, 5000);
if ("serviceWorker" in navigator) navigator.serviceWorker.register("/sw.js", { scope: "/team" }).catch(() => {});
showNet();
drawRefused();
draw();
loadAssignment().catch(() => {});
startGps();
keepAwake();
