// Shared by the pages: API calls with the CSRF token, the live /ws connection that
// resumes from the last seq it saw, an alert tone, and safe DOM building.
"use strict";

// The page's CSRF token; replaced by a fresh one when the service's key changed.
let CSRF = document.querySelector('meta[name="csrf-token"]').content;

// What a page does when its session is no longer valid (401, or a socket closed with
// 4401). By default it reloads, which lands on the login page (that page has no live
// connection, so this cannot loop). The team's phone shows a banner instead, so that
// its queued steps wait for the new login.
const SESSION = { onUnauthorized: () => location.reload() };

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || String(status));
    this.status = status;
    this.problem = problem;
  }
}

// A fresh CSRF token for this session (the old one went stale, e.g. the service was
// restarted with another key); false when the session itself is gone.
async function refreshCsrf() {
  const response = await fetch("/session/csrf", {
    credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" });
  if (response.status === 401) return false;
  if (!response.ok) throw new ApiError(response.status, {});
  CSRF = (await response.json()).csrf_token;
  for (const input of document.querySelectorAll('input[name="csrf_token"]')) input.value = CSRF;
  return true;
}

// fetch() with the session cookie and CSRF token; JSON in, JSON (or null) out.
// A 403 for a stale CSRF token is retried once with a fresh token; a 401 calls
// SESSION.onUnauthorized. Either way a failure throws ApiError (a network failure
// throws what fetch threw). `timeoutMs`: give up on a request not answered by then
// (fetch's AbortError is thrown): a connection a mobile network dropped without a word
// would otherwise keep it waiting for many minutes, and what waits behind it too.
async function api(method, path, body, { retried = false, timeoutMs = 0 } = {}) {
  const headers = { "X-CSRF-Token": CSRF, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const abort = new AbortController();
  const timer = timeoutMs ? setTimeout(() => abort.abort(), timeoutMs) : null;
  try {
    const response = await fetch(path, {
      method, headers, credentials: "same-origin", signal: abort.signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) { SESSION.onUnauthorized(); throw new ApiError(401, {}); }
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (response.status === 403 && !retried && data && data.type === "/problems/csrf") {
      if (await refreshCsrf()) return api(method, path, body, { retried: true, timeoutMs });
      SESSION.onUnauthorized();
      throw new ApiError(401, {});
    }
    if (!response.ok) throw new ApiError(response.status, data || {});
    return data;
  } finally {
    clearTimeout(timer);
  }
}

// el("td", {class: "x"}, "text", child): text always goes in as text, never as markup.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let audio = null;
// A short alarm from the browser itself (no sound file to fetch).
function beep(times = 2, frequency = 880) {
  try {
    audio = audio || new AudioContext();
    for (let i = 0; i < times; i++) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = frequency;
      osc.connect(gain).connect(audio.destination);
      const start = audio.currentTime + i * 0.35;
      gain.gain.setValueAtTime(0.25, start);
      osc.start(start);
      osc.stop(start + 0.2);
    }
  } catch (err) { /* no audio device: the visual alert remains */ }
}

function minutesSince(iso) { return Math.max(0, (Date.now() - Date.parse(iso)) / 60000); }

// The live connection: hello with last_seq, events in order once, reconnect with backoff.
// `gapless`: this client sees every event (a dashboard), so a jump in seq means events
// were missed and onResync is called to fetch the state again.
// `events`: the event names this page uses (the hello asks for those only; null: all).
class Live {
  constructor({ onEvent, onState, onResync, gapless = false, events = null }) {
    this.onEvent = onEvent; this.onState = onState; this.onResync = onResync;
    this.gapless = gapless; this.events = events;
    this.lastSeq = null; this.backoff = 500; this.lastFrame = Date.now();
    this.up = false;           // welcomed, and not closed since
    this.asked = new Map();    // client_id → settle(result or error), see ask()
    this.connect();
    setInterval(() => this.watchdog(), 5000);
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    // batch: what the server has queued comes as one frame (a dashboard receives a
    // round of positions in one message rather than hundreds).
    ws.onopen = () => ws.send(JSON.stringify({ type: "hello", last_seq: this.lastSeq,
                                               batch: true, events: this.events }));
    ws.onmessage = (message) => this.receive(JSON.parse(message.data));
    ws.onclose = (closed) => {
      if (this.ws !== ws) return;
      this.up = false;
      for (const settle of [...this.asked.values()]) settle(new Error("live connection closed"));
      this.onState(false);
      if (closed.code === 4401) { SESSION.onUnauthorized(); return; }
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 10000);
    };
  }

  receive(frame) {
    this.lastFrame = Date.now();
    if (frame.type === "batch") {
      for (const inner of frame.frames) this.receive(inner);
    } else if (frame.type === "welcome") {
      const fresh = this.lastSeq === null;
      if (fresh) this.lastSeq = frame.seq;
      this.backoff = 500;
      this.up = true;
      this.onState(true, fresh);
    } else if (frame.type === "event" && frame.seq > this.lastSeq) {
      const gap = this.gapless && frame.seq > this.lastSeq + 1;
      this.lastSeq = frame.seq;
      if (gap) this.onResync();
      else this.onEvent(frame);
    } else if (frame.type === "resync") {
      this.lastSeq = frame.seq;
      this.onResync();
    } else if (frame.type === "result" && this.asked.has(frame.client_id)) {
      this.asked.get(frame.client_id)(frame.ok ? frame
        : new ApiError(frame.status || 400, { detail: frame.error }));
    }
  }

  // Send `frame` (a step or a fix, carrying `clientId`) and wait for its result frame:
  // the result when accepted, ApiError(status) when refused, an Error when the socket
  // is down, closes first, or no result came within `timeoutMs`.
  ask(frame, clientId, timeoutMs) {
    return new Promise((resolve, reject) => {
      if (!this.up || !this.send(frame)) { reject(new Error("live connection down")); return; }
      const settle = (outcome) => {
        clearTimeout(timer);
        this.asked.delete(clientId);
        if (outcome instanceof Error) reject(outcome); else resolve(outcome);
      };
      const timer = setTimeout(() => settle(new Error("no result in time")), timeoutMs);
      this.asked.set(clientId, settle);
    });
  }

  // Heartbeats come every 20 s; silence for much longer means a dead connection.
  watchdog() {
    if (Date.now() - this.lastFrame > 50000 && this.ws.readyState === WebSocket.OPEN) {
      this.ws.close();
    }
  }

  send(frame) {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }
}
