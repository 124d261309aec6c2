"""Database queries answered while operators' dashboards are open and one team's phone
sends a GPS fix every second.

Twenty real dashboards (one headless Chromium, one browser context per operator, each
logged in through the /login form and connected to /ws) watch a small fleet. One team's
phone, with a device token from POST /api/v1/auth/device, sends
POST /api/v1/team/location once a second for a minute; each fix is a `team.updated`
event that every dashboard receives. Counted: the statements the database answered
for the benchmark's database during that window (pg_stat_statements), per fix and per
fix per dashboard, what they were, and the same over a quiet window first (dashboards
open, no fixes). Afterwards every dashboard must show the team at its last fix, so
that a low figure cannot come from a dashboard that stopped updating.

    .venv/bin/python -m load.bench_dashboards [--dashboards 20] [--seconds 60] [--rate 1]

DATABASE_URL names a server to make a fresh database on (dropped afterwards); it needs
pg_stat_statements in shared_preload_libraries, else transactions are counted instead.
Without it an embedded PostgreSQL is started in a temp dir with pg_stat_statements
loaded, and removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from playwright.async_api import WebSocket as PageSocket

from load import observe
from load.common import LAT_MAX, LAT_MIN, LON_MAX, LON_MIN, cpu_count, fresh_database, machine
from load.service import ROOT, service_process

CHROMIUM = "/usr/bin/chromium"
# As tests/test_pages.py, plus: no timer throttling of pages nobody looks at, and no
# name resolution except loopback (nothing may leave the machine).
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--autoplay-policy=no-user-gesture-required",
                  "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                  "--disable-backgrounding-occluded-windows",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
OPERATOR_PASSWORD = "bench-operator-secret"
ADMIN, ADMIN_PASSWORD = "bench-admin", "bench-admin-secret"
TEAM_PIN = "432100"
# A fleet like the demo's: the RSUD and the puskesmas as bases (code, kind, lat, lon).
BASES = [("RSUD-1", "als", -4.034919, 119.633957), ("RSUD-2", "als", -4.034919, 119.633957),
         ("LKS", "bls", -4.005628, 119.628014), ("LPD", "bls", -3.990952, 119.656288),
         ("LMP", "bls", -4.034359, 119.679390), ("MNM", "bls", -4.013532, 119.628006),
         ("CMP-R", "motorbike", -4.001474, 119.632942), ("LMU", "bls", -4.048105, 119.693542)]
INCIDENTS = [(-4.0128, 119.6331, "Jl. Bau Massepe 12", "sesak napas", 1),
             (-4.0236, 119.6398, "Jl. Andi Makkasau 40", "kecelakaan motor", 2),
             (-3.9962, 119.6491, "Jl. Lasinrang 7", "nyeri dada", 2)]
LINES = [("112", "EKSIS Call Centre 112", 0), ("+6281100000112", "Nomor cadangan 1", 1)]
MARK = "/* bench_dashboards */"  # on the benchmark's own statements, which are left out
# pg_stat_statements_reset(userid, dbid, queryid), 0 meaning all: this database only.
RESET_THIS_DATABASE = (f"{MARK} SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database"
                       " WHERE datname = current_database()), 0)")
OPEN_TIMEOUT_S = 60.0  # one page: login form to the welcome on its /ws
OPEN_ALL_TIMEOUT_S = 300.0
SEND_GRACE_S = 30.0  # the phone stops this long after its last scheduled fix
TAIL_S = 3.0  # the window goes on this long after the last fix, for the last refreshes
CATCH_UP_S = 10.0  # longest extra wait for a dashboard that is behind at the window's end
LOGIN_BATCH = 4
STATEMENT_WIDTH = 100

# Runs before the page's scripts: hands every Leaflet map the page makes to the
# benchmark (L.Map.addInitHook is Leaflet's own API), so that what a dashboard shows can
# be read off its map without knowing dashboard.js's variables.
LEAFLET_HOOK = """(() => {
  let leaflet;
  window.__benchMaps = [];
  Object.defineProperty(window, "L", { configurable: true, get: () => leaflet, set: (v) => {
    leaflet = v;
    if (v && v.Map && v.Map.addInitHook && !v.__benchHooked) {
      v.__benchHooked = true;
      v.Map.addInitHook(function () { window.__benchMaps.push(this); });
    }
  } });
})();"""
# Map layers at exactly (lat, lon), and how many maps and positioned layers there are.
LAYERS_AT = """([lat, lon]) => {
  const maps = window.__benchMaps || [];
  let layers = 0, at = 0;
  for (const map of maps) map.eachLayer((layer) => {
    if (typeof layer.getLatLng !== "function") return;
    layers += 1;
    const p = layer.getLatLng();
    if (Math.abs(p.lat - lat) < 1e-9 && Math.abs(p.lng - lon) < 1e-9) at += 1;
  });
  return { maps: maps.length, layers, at };
}"""


# -- set-up


def cli(args: list[str], dsn: str, stdin: str | None = None) -> str:
    """`dispatch112 ARGS` of this tree (python -m in ROOT), with DATABASE_URL=`dsn`."""
    res = subprocess.run([sys.executable, "-m", "dispatch.cli", *args], cwd=ROOT, input=stdin,
                         env={**os.environ, "DATABASE_URL": dsn}, capture_output=True,
                         text=True, timeout=120)
    if res.returncode != 0:
        raise RuntimeError(f"dispatch112 {' '.join(args)} exited {res.returncode}: "
                           f"{res.stdout}{res.stderr}")
    return res.stdout


def operator_name(index: int) -> str:
    return f"bench-op-{index + 1:02d}"


def create_users(dsn: str, dashboards: int, lines: bool) -> None:
    """One operator per dashboard (and an admin for the lines), through the CLI."""
    for index in range(dashboards):
        cli(["user", "create", operator_name(index), "--role", "operator", "--password-stdin"],
            dsn, OPERATOR_PASSWORD + "\n")
    if lines:
        cli(["user", "create", ADMIN, "--role", "admin", "--password-stdin"], dsn,
            ADMIN_PASSWORD + "\n")


async def token(http: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    response = await http.post("/api/v1/auth/token",
                               json={"username": username, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def seed(http: httpx.AsyncClient, args: argparse.Namespace) -> dict:
    """Through the HTTP API: the teams on a shift covering now, the lines, the active
    incidents; then the phone's device token for a team left available. Returns the
    phone's team and token."""
    operator = await token(http, operator_name(0), OPERATOR_PASSWORD)
    now = datetime.now(UTC)
    shift = {"starts_at": (now - timedelta(hours=1)).isoformat(),
             "ends_at": (now + timedelta(hours=7)).isoformat()}
    for code, kind, lat, lon in BASES[:args.teams]:
        response = await http.post("/api/v1/teams", headers=operator, json={
            "code": code, "name": f"Tim {code}", "kind": kind, "base": {"lat": lat, "lon": lon},
            "base_name": f"Pos {code}", "pin": TEAM_PIN})
        response.raise_for_status()
        (await http.post(f"/api/v1/teams/{response.json()['id']}/shifts", headers=operator,
                         json=shift)).raise_for_status()
    if not args.no_lines:
        admin = await token(http, ADMIN, ADMIN_PASSWORD)
        for number, label, priority in LINES:
            (await http.post("/api/v1/lines", headers=admin, json={
                "number": number, "label": label, "priority": priority,
                "probe": {"kind": "none"}})).raise_for_status()
    for lat, lon, address, complaint, priority in INCIDENTS[:args.incidents]:
        (await http.post("/api/v1/incidents", headers=operator, json={
            "caller_number": "081234567890", "location": {"lat": lat, "lon": lon},
            "address": address, "complaint": complaint, "priority": priority})
         ).raise_for_status()
    teams = (await http.get("/api/v1/teams", headers=operator)).json()["items"]
    free = [t for t in teams if t["status"] == "available"] or teams
    team = free[0]
    response = await http.post("/api/v1/auth/device",
                               json={"team_code": team["code"], "pin": TEAM_PIN})
    response.raise_for_status()
    statuses = Counter(t["status"] for t in teams)
    return {"team": team, "token": response.json()["access_token"], "statuses": statuses}


async def served_own_dashboard(http: httpx.AsyncClient) -> bool:
    """Whether the service serves this tree's dashboard.js (and so is this tree's code)."""
    response = await http.get("/static/dashboard.js")
    own = (ROOT / "dispatch" / "web" / "static" / "dashboard.js").read_bytes()
    return response.status_code == 200 and response.content == own


# -- counting


class Counting:
    """Statements the database answered for one database: pg_stat_statements when it
    can be had, else committed + rolled-back transactions from pg_stat_database."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn, self.statements, self.note = conn, False, ""
        self._xacts = 0

    async def setup(self) -> None:
        try:
            await self.conn.execute(f"{MARK} CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await self.conn.fetchval(f"{MARK} SELECT count(*) FROM pg_stat_statements")
            await self.conn.execute(RESET_THIS_DATABASE)
            self.statements = True
        except asyncpg.PostgresError as exc:
            self.note = (f"pg_stat_statements not available ({type(exc).__name__}: "
                         f"{exc}); counting transactions instead")

    async def _xact_count(self) -> int:
        return await self.conn.fetchval(
            f"{MARK} SELECT xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()")

    async def start(self) -> None:
        """Zero this database's statistics (only this database's)."""
        if self.statements:
            await self.conn.execute(RESET_THIS_DATABASE)
        self._xacts = await self._xact_count()

    async def read(self) -> tuple[int, list[tuple[str, int]], int]:
        """(statements or transactions since start, [(statement, calls)] by calls,
        transactions since start). The benchmark's own statements are left out."""
        rows = []
        if self.statements:
            rows = await self.conn.fetch(
                f"{MARK} SELECT query, sum(calls)::bigint AS calls FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                "  AND strpos(query, $1) = 0 GROUP BY query ORDER BY 2 DESC, 1", MARK)
        # pg_stat_database counts our own transactions too: the statement above.
        xacts = await self._xact_count() - self._xacts - (1 if self.statements else 0)
        breakdown = [(r["query"], r["calls"]) for r in rows]
        total = sum(c for _, c in breakdown) if self.statements else xacts
        return total, breakdown, xacts


POOL_RESET = {"SELECT pg_advisory_unlock_all()", "CLOSE ALL", "UNLISTEN *", "RESET ALL"}


def statement_kind(query: str) -> str:
    """"reset" (what an asyncpg pool sends when a connection is released), "control"
    (transaction control) or "query"."""
    text = query.strip().rstrip(";")
    if text in POOL_RESET:
        return "reset"
    if re.match(r"(BEGIN|START|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b", text, re.IGNORECASE):
        return "control"
    return "query"


def short(query: str) -> str:
    text = re.sub(r"\s+", " ", query).strip()
    return text if len(text) <= STATEMENT_WIDTH else text[:STATEMENT_WIDTH - 1] + "…"


# -- dashboards


@dataclass
class Dashboard:
    """One operator's page and what its live socket received."""

    index: int
    context: BrowserContext | None = None
    page: Page | None = None
    welcomes: int = 0
    welcomed: asyncio.Event = field(default_factory=asyncio.Event)
    frames: Counter = field(default_factory=Counter)  # event name (or frame type)
    fixes_seen: int = 0  # team.updated frames of the phone's team
    closed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Traffic:
    """The pages' API calls while `on`, by path: answers the pages got, and how many of
    them the service gave (distinct X-Request-Id; the others came from the browser's
    HTTP cache, e.g. /api/v1/hotline's max-age). Also any request to another host."""

    base_url: str
    on: bool = False
    answers: Counter = field(default_factory=Counter)
    served: dict[str, set] = field(default_factory=dict)
    foreign: list[str] = field(default_factory=list)

    def request(self, request) -> None:
        if not request.url.startswith((self.base_url, self.base_url.replace("http", "ws", 1),
                                       "data:", "blob:")):
            self.foreign.append(request.url)

    def response(self, response) -> None:
        parts = urlsplit(response.url)
        if not self.on or not parts.path.startswith("/api/"):
            return
        path = re.sub(r"/\d+(?=/|$)", "/{id}", parts.path)
        path += f"?{parts.query}" if parts.query else ""
        self.answers[path] += 1
        self.served.setdefault(path, set()).add(
            response.headers.get("x-request-id") or f"no id {self.answers[path]}")


def watch_socket(dash: Dashboard, team_id: int):
    def on_frame(payload: str | bytes) -> None:
        try:
            frame = json.loads(payload)
        except ValueError:
            return
        kind = frame.get("type")
        if kind == "welcome":
            dash.welcomes += 1
            dash.welcomed.set()
        elif kind == "event":
            dash.frames[frame.get("name")] += 1
            data = frame.get("data") or {}
            if frame.get("name") == "team.updated" and data.get("id") == team_id:
                dash.fixes_seen += 1
        else:
            dash.frames[kind] += 1

    def on_socket(ws: PageSocket) -> None:
        if urlsplit(ws.url).path != "/ws":
            return
        ws.on("framereceived", on_frame)
        ws.on("close", lambda _ws: setattr(dash, "closed", dash.closed + 1))
    return on_socket


async def open_dashboard(browser: Browser, base_url: str, dash: Dashboard, team_id: int,
                         traffic: Traffic) -> None:
    """A context of its own (its own session cookie), login through the form, then wait
    for the welcome on the page's /ws."""
    dash.context = context = await browser.new_context(
        viewport={"width": 1366, "height": 768}, locale="id-ID")
    await context.add_init_script(LEAFLET_HOOK)
    context.on("request", traffic.request)
    context.on("response", traffic.response)
    dash.page = page = await context.new_page()
    page.on("websocket", watch_socket(dash, team_id))
    page.on("pageerror", lambda error: dash.errors.append(str(error)))
    await page.goto(f"{base_url}/login")
    await page.fill("input[name=username]", operator_name(dash.index))
    await page.fill("input[name=password]", OPERATOR_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base_url}/dashboard")
    await asyncio.wait_for(dash.welcomed.wait(), OPEN_TIMEOUT_S)


async def positions_shown(dashboards: list[Dashboard], at: tuple[float, float]) -> list[dict]:
    return await asyncio.gather(*(d.page.evaluate(LAYERS_AT, list(at)) for d in dashboards))


# -- the phone


@dataclass
class Phone:
    sent: int = 0  # fixes due (each sent, unless past the time limit)
    codes: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    last: tuple[float, float] | None = None


def walk(start: tuple[float, float], count: int, seed: int) -> list[tuple[float, float]]:
    """`count` fixes from `start`, each 15 to 40 m from the one before, in the box."""
    rng, (lat, lon), points = random.Random(seed), start, []
    heading = rng.uniform(0, 2 * math.pi)
    for _ in range(count):
        heading += rng.uniform(-0.6, 0.6)
        step = rng.uniform(15, 40) / 111_320
        lat += step * math.cos(heading)
        lon += step * math.sin(heading) / math.cos(math.radians(lat))
        if not (LAT_MIN < lat < LAT_MAX and LON_MIN < lon < LON_MAX):
            heading += math.pi
            lat, lon = min(max(lat, LAT_MIN), LAT_MAX), min(max(lon, LON_MIN), LON_MAX)
        points.append((round(lat, 7), round(lon, 7)))
    return points


async def send_fixes(http: httpx.AsyncClient, device_token: str, points: list[tuple],
                     rate: float, phone: Phone) -> None:
    """POST each point to /api/v1/team/location at `rate` per second, on a fixed
    schedule (a late answer delays only the next fix, never adds one)."""
    headers = {"Authorization": f"Bearer {device_token}"}
    started = time.monotonic()
    deadline = started + len(points) / rate + SEND_GRACE_S
    for k, (lat, lon) in enumerate(points):
        await asyncio.sleep(max(0.0, started + k / rate - time.monotonic()))
        phone.sent += 1
        if time.monotonic() > deadline:
            phone.codes["not sent: time limit"] += 1
            continue
        sent = time.perf_counter()
        try:
            response = await http.post("/api/v1/team/location", headers=headers,
                                       json={"lat": lat, "lon": lon, "accuracy_m": 8.0})
        except httpx.HTTPError as exc:
            phone.codes[type(exc).__name__] += 1
            continue
        phone.latencies.append(time.perf_counter() - sent)
        phone.codes[response.status_code] += 1
        if response.status_code == 204:
            phone.last = (lat, lon)


# -- the run


async def open_dashboards(browser: Browser, base_url: str, dashboards: list[Dashboard],
                          team_id: int, traffic: Traffic) -> float:
    """All the pages, LOGIN_BATCH at a time; the seconds it took."""
    started = time.perf_counter()
    async with asyncio.timeout(OPEN_ALL_TIMEOUT_S):
        for at in range(0, len(dashboards), LOGIN_BATCH):
            await asyncio.gather(*(open_dashboard(browser, base_url, d, team_id, traffic)
                                   for d in dashboards[at:at + LOGIN_BATCH]))
    return time.perf_counter() - started


async def windows(args: argparse.Namespace, counting: Counting, http: httpx.AsyncClient,
                  fleet: dict, dashboards: list[Dashboard], traffic: Traffic,
                  pid: int) -> dict:
    """The quiet window, then the measured one, then the check of what the pages show."""
    await counting.start()
    await asyncio.sleep(args.idle_seconds)
    idle = await counting.read()

    team = fleet["team"]
    points = walk((team["position"]["lat"], team["position"]["lon"]),
                  round(args.seconds * args.rate), args.seed)
    phone = Phone()
    before = (observe.cpu_seconds(pid), observe.machine_busy_seconds(),
              [d.fixes_seen for d in dashboards])
    await counting.start()
    traffic.on = True
    began = time.perf_counter()
    await send_fixes(http, fleet["token"], points, args.rate, phone)
    await asyncio.sleep(TAIL_S)
    window_s = time.perf_counter() - began
    traffic.on = False
    measured = await counting.read()
    used = (observe.cpu_seconds(pid) - before[0], observe.machine_busy_seconds() - before[1])

    shown = await positions_shown(dashboards, phone.last) if phone.last else []
    current_at_end = sum(1 for s in shown if s["at"])
    waited = time.perf_counter()
    while (shown and sum(1 for s in shown if s["at"]) < len(dashboards)
           and time.perf_counter() - waited < CATCH_UP_S):
        await asyncio.sleep(0.5)
        shown = await positions_shown(dashboards, phone.last)
    return {"idle": idle, "measured": measured, "window_s": window_s, "phone": phone,
            "used": used, "shown": shown, "current_at_end": current_at_end,
            "caught_up_s": time.perf_counter() - waited,
            "frames": [d.fixes_seen - b for d, b in zip(dashboards, before[2], strict=True)]}


async def measure(args: argparse.Namespace, database, logs: Path, host: str) -> int:
    conn = await asyncpg.connect(database.dsn)
    try:
        counting = Counting(conn)
        await counting.setup()
        create_users(database.dsn, args.dashboards, not args.no_lines)
        async with service_process(database.dsn, logs / "service.log", args.log_level) as (
                base_url, pid), httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            own_js = await served_own_dashboard(http)
            fleet = await seed(http, args)
            traffic = Traffic(base_url)
            dashboards = [Dashboard(i) for i in range(args.dashboards)]
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                           args=CHROMIUM_FLAGS)
                try:
                    open_s = await open_dashboards(browser, base_url, dashboards,
                                                   fleet["team"]["id"], traffic)
                    await asyncio.sleep(2.0)  # the first fetches of the last pages
                    result = await windows(args, counting, http, fleet, dashboards, traffic,
                                           pid)
                finally:
                    await browser.close()
    finally:
        await conn.close()
    result.update(host=host, own_js=own_js, fleet=fleet, open_s=open_s, traffic=traffic,
                  dashboards=dashboards, note=counting.note, statements=counting.statements)
    return report(args, database, result)


def report(args: argparse.Namespace, database, r: dict) -> int:
    """Print the figures; the number of problems (fixes refused, dashboards not showing
    the last fix or missing fixes, sockets closed, page errors, foreign requests)."""
    n, phone, dashboards = args.dashboards, r["phone"], r["dashboards"]
    total, breakdown, xacts = r["measured"]
    idle_total, idle_breakdown, _ = r["idle"]
    unit = "statements" if r["statements"] else "transactions"
    fixes = phone.codes.get(204, 0)
    idle_rate = idle_total / args.idle_seconds if args.idle_seconds else 0.0
    above = total - idle_rate * r["window_s"]
    shown = r["shown"]
    current = sum(1 for s in shown if s["at"])
    all_fixes = sum(1 for f in r["frames"] if f >= fixes)
    closed = sum(d.closed for d in dashboards)
    reconnects = sum(d.welcomes for d in dashboards) - n
    errors = [e for d in dashboards for e in d.errors]
    team = r["fleet"]["team"]

    print("dispatch112 dashboards benchmark: database work per GPS fix")
    print(f"  machine      {r['host']}")
    print(f"  PostgreSQL   {database.server_version} ({database.origin})")
    print(f"  service      dispatch112 serve (python -m dispatch.cli in {ROOT}), log level "
          f"{args.log_level}; serves this tree's dashboard.js: "
          f"{'yes' if r['own_js'] else 'NO'}")
    print(f"  fleet        {args.teams} teams on shift ("
          + ", ".join(f"{k} {v}" for k, v in sorted(r["fleet"]["statuses"].items()))
          + f"), {args.incidents} active incidents, "
          + ("no lines" if args.no_lines else f"{len(LINES)} lines (no probe)"))
    print(f"  dashboards   {n} pages in one headless Chromium, each its own operator logged "
          f"in through /login; all {n} welcomed on /ws after {r['open_s']:.1f} s")
    print(f"  phone        team {team['code']} (id {team['id']}): {phone.sent} fixes at "
          f"{args.rate:g}/s over {args.seconds:g} s, answers "
          + ", ".join(f"{k}: {v}" for k, v in sorted(phone.codes.items(), key=str))
          + (f"; latency median {sorted(phone.latencies)[len(phone.latencies) // 2] * 1000:.1f}"
             f" ms, max {max(phone.latencies) * 1000:.1f} ms" if phone.latencies else ""))
    if r["note"]:
        print(f"  counting     {r['note']}")
    else:
        print("  counting     pg_stat_statements of this database (top-level statements, "
              "BEGIN/COMMIT included), reset at the start of each window; the "
              "benchmark's own statements left out")
    print(f"quiet window  {idle_total} {unit} in {args.idle_seconds:g} s with the "
          f"dashboards open and no fixes: {idle_rate:.1f}/s" + (", mostly:" if idle_breakdown
                                                                   else ""))
    for query, calls in idle_breakdown[:5]:
        print(f"  {calls:7d}  {short(query)}")
    print(f"measured      {total} {unit} in {r['window_s']:.1f} s ({fixes} fixes + "
          f"{TAIL_S:g} s tail)")
    if fixes:
        print(f"  per fix                    {total / fixes:8.1f}")
        print(f"  per fix per dashboard      {total / fixes / n:8.2f}")
        print(f"  above the quiet rate       {above:8.0f}  = {above / fixes:.1f} per fix, "
              f"{above / fixes / max(n, 1):.2f} per fix per dashboard")
    print(f"  transactions               {xacts:8d}  (pg_stat_database; each backend "
          "reports them up to 10 s late: approximate)")
    if breakdown:
        kinds = Counter()
        for query, calls in breakdown:
            kinds[statement_kind(query)] += calls
        print(f"  of which                   {kinds['reset']:8d}  asyncpg's reset of a pooled "
              "connection on release (4 statements in one round trip)")
        print(f"                             {kinds['control']:8d}  BEGIN/COMMIT/ROLLBACK/"
              "SAVEPOINT")
        print(f"                             {kinds['query']:8d}  other statements = "
              f"{kinds['query'] / max(fixes, 1):.1f} per fix, "
              f"{kinds['query'] / max(fixes * n, 1):.2f} per fix per dashboard")
        print("top statements by calls (measured window):")
        for query, calls in breakdown[:10]:
            print(f"  {calls:7d}  {short(query)}")
    traffic = r["traffic"]
    served = {path: len(ids) for path, ids in traffic.served.items()}
    requests = sum(served.values())
    print(f"HTTP          {requests} API requests from the pages answered by the service in "
          f"the window ({requests / max(fixes, 1):.1f} per fix, "
          f"{requests / max(fixes * n, 1):.2f} per fix per dashboard), plus the phone's "
          f"{phone.sent}; {sum(traffic.answers.values()) - requests} more came from the "
          "browser's HTTP cache:")
    for path, count in sorted(served.items(), key=lambda item: (-item[1], item[0])):
        print(f"  {count:7d}  {path}  (calls {traffic.answers[path]})")
    print(f"dashboards    showing the team at its last fix: {r['current_at_end']}/{n} at the "
          f"window's end, {current}/{n} after {r['caught_up_s']:.1f} s more "
          f"(maps found: {sum(s['maps'] for s in shown)}); received all {fixes} "
          f"team.updated: {all_fixes}/{n}; sockets closed: {closed}, reconnects: "
          f"{reconnects}; page errors: "
          f"{len(errors)}" + (f" (first: {errors[0][:200]})" if errors else ""))
    frames = Counter()
    for d in dashboards:
        frames.update(d.frames)
    print("  frames received (all pages, whole run): "
          + ", ".join(f"{k} {v}" for k, v in frames.most_common()))
    if traffic.foreign:
        print(f"  requests to other hosts: {len(traffic.foreign)} (first: {traffic.foreign[0]})")
    wall = r["window_s"]
    print(f"CPU (window)  service {r['used'][0]:.1f} s; machine busy {r['used'][1]:.1f} s "
          f"of {wall * cpu_count():.1f} ({100 * r['used'][1] / (wall * cpu_count()):.0f} %)")
    return ((phone.sent - fixes) + (n - current) + (n - all_fixes) + closed + reconnects
            + len(errors) + len(traffic.foreign) + (not r["own_js"]))


async def run(args: argparse.Namespace) -> int:
    host = machine()
    logs = Path(tempfile.mkdtemp(prefix="d112-bench-log-"))
    failures = 1
    os.environ.pop("DISPATCH112_TILE_URL", None)  # map tiles would come from elsewhere
    started = time.perf_counter()
    try:
        async with fresh_database(fast=args.fast, settings={
                "shared_preload_libraries": "pg_stat_statements"}) as database:
            failures = await measure(args, database, logs, host)
    finally:
        print(f"run took {time.perf_counter() - started:.0f} s")
        if failures:
            print(f"service log kept: {logs}")
        else:
            shutil.rmtree(logs, ignore_errors=True)
    return 1 if failures else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m load.bench_dashboards",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--dashboards", type=int, default=20,
                        help="operators' pages open (20)")
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="how long the phone sends fixes (60)")
    parser.add_argument("--rate", type=float, default=1.0, help="fixes per second (1)")
    parser.add_argument("--idle-seconds", type=float, default=10.0,
                        help="quiet window before, dashboards open and no fixes (10)")
    parser.add_argument("--teams", type=int, default=7, help="teams on shift (7, at most 8)")
    parser.add_argument("--incidents", type=int, default=2,
                        help="active incidents (2, at most 3)")
    parser.add_argument("--no-lines", action="store_true",
                        help="configure no 112 lines (the dashboards then skip the "
                             "hotline and call-back fetches)")
    parser.add_argument("--seed", type=int, default=112)
    parser.add_argument("--log-level", default="info",
                        help="DISPATCH112_LOG_LEVEL of the service (default info)")
    parser.add_argument("--fast", action="store_true",
                        help="embedded server with fsync off (no effect with DATABASE_URL)")
    args = parser.parse_args(argv)
    if not (1 <= args.dashboards <= 50 and 1 <= args.seconds <= 600
            and 0.1 <= args.rate <= 10 and 0 <= args.idle_seconds <= 120
            and 1 <= args.teams <= len(BASES) and 0 <= args.incidents <= len(INCIDENTS)
            and args.seconds * args.rate >= 1):
        parser.error(f"dashboards 1..50, seconds 1..600, rate 0.1..10 (at least one fix), "
                     f"idle-seconds 0..120, teams 1..{len(BASES)}, "
                     f"incidents 0..{len(INCIDENTS)}")
    return args


def main(argv: list[str] | None = None) -> None:
    raise SystemExit(asyncio.run(run(parse_args(argv))))


if __name__ == "__main__":
    main()
