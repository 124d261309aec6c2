"""The health office's /reports page in a real headless Chromium, its chart images,
the map's incident points and the workload, calls and lines sections, over incidents,
shifts, assignments, calls and line history whose times are known."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from playwright.async_api import Browser, Page, Route, expect

from dispatch.cities import load_pack
from dispatch.cities.loader import do_load_city
from dispatch.reports import plots
from dispatch.reports.charts import CHARTS
from tests.browser_support import ARTIFACTS, Watch
from tests.reports_support import (
    insert_assignment,
    insert_call,
    insert_incident,
    insert_shift,
    local,
)
from tests.support import PASSWORDS, Api

# Inside kecamatan of the city pack (its fact sheet's centroids).
SOREANG, UJUNG = (-3.9881, 119.6438), (-3.9941, 119.6519)
BACUKIKI_BARAT, BACUKIKI = (-4.0432, 119.6334), (-4.0380, 119.6780)
# Each incident: its caller, place, priority and step times in seconds after the call
# (assigned, acknowledged, en route, on scene), its status and assignments.
INCIDENTS = [
    ("0812 1111 0001", SOREANG, 1, 3 * 24, (30, 60, 90, 600), "closed", 1),
    ("0812 1111 0002", UJUNG, 2, 2 * 24, (50, 80, 120, 1200), "closed", 2),
    ("0812 1111 0003", BACUKIKI_BARAT, 1, 24, (20, 40, 60, 480), "closed", 1),
    ("0812 1111 0004", BACUKIKI, 3, 12, (None, None, None, None), "cancelled", 0),
    ("0812 1111 0005", SOREANG, 2, 1, (40, None, None, None), "assigned", 1),
]
CALLER_DIGITS = [caller.replace(" ", "")[1:] for caller, *_ in INCIDENTS]  # 81211110001...
# What the cards must say (Indonesian): 3 reached, 2 of them within 15 minutes; P90 of
# 480, 600, 1200 s (linear between ranks) is 1080 s = 18 min; P90 of the call processing
# 20, 30, 40, 50 s is 47 s.
CARDS = {"card-incidents": "5", "card-share": "66,7%", "card-p90": "18 mnt",
         "card-dispatch": "47 dtk", "card-cancelled": "1", "card-open": "1",
         "card-reassigned": "1"}
CHART_NAMES = list(CHARTS)


async def _known_incidents(api: Api, db: asyncpg.Connection) -> list[int]:
    """The city pack, two teams and INCIDENTS, their step times written in SQL."""
    async with db.transaction():
        await do_load_city(db, load_pack("parepare"))
    teams = [await api.team(code, *SOREANG) for code in ("RPT-1", "RPT-2")]
    now = datetime.now(UTC)
    ids = []
    for n, (caller, (lat, lon), priority, hours_ago, steps, status, count) in enumerate(INCIDENTS):
        created = await api.incident(lat, lon, priority=priority, caller_number=caller)
        assert created.status_code == 201, created.text
        received = now - timedelta(hours=hours_ago)
        at = [None if s is None else received + timedelta(seconds=s) for s in steps]
        ended = received + timedelta(minutes=45)
        await db.execute(
            """UPDATE incidents SET received_at = $2, assigned_at = $3, last_assigned_at = $3,
                   acknowledged_at = $4, en_route_at = $5, on_scene_at = $6, status = $7,
                   closed_at = CASE WHEN $7 = 'closed' THEN $8::timestamptz END,
                   cancelled_at = CASE WHEN $7 = 'cancelled' THEN $8::timestamptz END,
                   assignment_count = $9, last_team_id = CASE WHEN $9 > 0 THEN $10::bigint END
               WHERE id = $1""",
            created.json()["id"], received, *at, status, ended, count, teams[n % 2]["id"])
        ids.append(created.json()["id"])
    return ids


async def _health_office_page(browser: Browser, base_url: str, watch: Watch,  # noqa: F811
                              chart_types: dict[str, str]) -> Page:
    context = await browser.new_context(viewport={"width": 1366, "height": 900}, locale="id-ID")
    watch.attach(context)
    page = await context.new_page()
    page.on("response", lambda r: chart_types.__setitem__(r.url, r.headers.get("content-type"))
            if "/api/v1/reports/charts/" in r.url else None)
    await page.goto(f"{base_url}/login")
    await page.fill("input[name=username]", "health_office")
    await page.fill("input[name=password]", PASSWORDS["health_office"])
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base_url}/reports")
    await expect(page.locator("body[data-ready=true]")).to_be_attached()
    return page


async def _charts_loaded(page: Page) -> list[dict]:
    await page.wait_for_function("""() => [...document.querySelectorAll('#charts img')]
        .every((img) => img.complete)""")
    return await page.evaluate("""() => [...document.querySelectorAll('#charts img')]
        .map((img) => ({chart: img.dataset.chart, width: img.naturalWidth}))""")


@pytest.mark.settings(ack_timeout_s=3600)
async def test_health_office_reads_the_reports_page(browser: Browser, api: Api,  # noqa: F811
                                                    db: asyncpg.Connection,
                                                    service: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await _known_incidents(api, db)
    watch, chart_types = Watch(service), {}
    page = await _health_office_page(browser, service, watch, chart_types)

    for card, value in CARDS.items():
        await expect(page.locator(f"#{card} .card-value")).to_have_text(value)
    await expect(page.locator("#card-p90")).to_have_class("card-box over")
    await expect(page.locator("#card-share .card-label")).to_have_text("Tiba di lokasi ≤ 15 menit")

    # Every chart arrived as an SVG image and was drawn.
    loaded = await _charts_loaded(page)
    assert [c["chart"] for c in loaded] == CHART_NAMES
    assert all(c["width"] > 0 for c in loaded), loaded
    assert len(chart_types) == len(CHART_NAMES)
    assert set(chart_types.values()) == {"image/svg+xml"}, chart_types

    # The map: 22 kelurahan shaded, 4 kecamatan outlined, every incident a point.
    await expect(page.locator("#late-map path.kelurahan")).to_have_count(22)
    await expect(page.locator("#late-map path.kecamatan")).to_have_count(4)
    await expect(page.locator("#late-map path.incident-point")).to_have_count(5)
    await expect(page.locator("#late-map path.incident-point.late")).to_have_count(1)
    await expect(page.locator("#late-map path.incident-point.not_reached")).to_have_count(2)
    await expect(page.locator("#late-map path.kelurahan.band-none").first).to_be_attached()
    await expect(page.locator("#map-legend")).to_contain_text("Terlambat (1)")

    # The tables, numbers with a decimal comma.
    await expect(page.locator("#tables table.report-table")).to_have_count(5)
    # ... and those of the workload, calls and lines sections after them.
    await expect(page.locator("#activity table.report-table")).to_have_count(6)
    priority = page.locator("table[data-group=priority]")
    await expect(priority.locator("tbody tr")).to_have_count(3)
    await expect(priority.locator("tbody tr").first).to_contain_text("1 · Merah")
    await expect(priority.locator("tfoot")).to_contain_text("66,7%")
    await expect(page.locator("table[data-group=district] tbody tr")).to_have_count(4)
    await expect(page.locator("table[data-group=fractiles] tbody td")).to_have_count(60)
    await expect(page.locator("#download-csv")).to_have_attribute(
        "href", f"/api/v1/reports/response-times.csv?{await _query(page)}")
    await expect(page.locator("#download-xlsx")).to_have_attribute(
        "href", f"/api/v1/reports/response-times.xlsx?{await _query(page)}")
    await page.screenshot(path=str(ARTIFACTS / "reports.png"), full_page=True)

    # Printed: no form, no navigation; the title and period stay.
    await page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    await page.emulate_media(media="print")
    await expect(page.locator("#period-form")).to_be_hidden()
    await expect(page.locator("header.bar")).to_be_hidden()
    await expect(page.locator(".report-head")).to_contain_text("Kota Parepare")
    await page.wait_for_timeout(300)  # Leaflet redraws for the printed width
    await page.screenshot(path=str(ARTIFACTS / "reports-print.png"), full_page=True)
    assert watch.errors == [] and watch.dialogs == []
    assert watch.foreign == [], watch.foreign


async def _query(page: Page) -> str:
    return await page.evaluate("periodQuery(readPeriod())")


@pytest.mark.settings(ack_timeout_s=3600)
async def test_quick_periods_and_english(browser: Browser, api: Api,  # noqa: F811
                                         db: asyncpg.Connection, service: str) -> None:
    await _known_incidents(api, db)
    watch = Watch(service)
    page = await _health_office_page(browser, service, watch, {})
    await page.click("button[data-quick='7d']")
    await expect(page).to_have_url(re.compile(r"/reports\?from=[0-9-]+&to=[0-9-]+$"))
    days = await page.evaluate("""() => { const p = new URLSearchParams(location.search);
        return (Date.parse(p.get('to')) - Date.parse(p.get('from'))) / 86400000; }""")
    assert days == 6
    await expect(page.locator("body[data-ready=true]")).to_be_attached()
    await page.click("button.lang-toggle")
    await expect(page.locator("#card-p90 .card-value")).to_have_text("18 min")
    await expect(page.locator("#card-share .card-value")).to_have_text("66.7%")
    srcs = await page.eval_on_selector_all("#charts img", "imgs => imgs.map(i => i.src)")
    assert all(src.endswith("&lang=en") for src in srcs), srcs
    assert all(c["width"] > 0 for c in await _charts_loaded(page))
    # A period with nothing in it: every card and chart still answers.
    await page.goto(f"{service}/reports?from=2020-01-01&to=2020-01-31")
    await expect(page.locator("body[data-ready=true]")).to_be_attached()
    await expect(page.locator("#card-incidents .card-value")).to_have_text("0")
    assert all(c["width"] > 0 for c in await _charts_loaded(page))
    # A bad period is said, not a broken page.
    await page.goto(f"{service}/reports?from=2020-02-01&to=2020-01-01")
    await expect(page.locator("#report-error")).to_be_visible()
    assert watch.errors == [] and watch.foreign == []


@pytest.mark.parametrize("name", CHART_NAMES)
async def test_chart_endpoints(api: Api, name: str) -> None:
    path = f"/api/v1/reports/charts/{name}.svg"
    await api.team("CH1", *SOREANG)
    await api.device_token("CH1")
    for lang, empty in (("id", "Tidak ada data"), ("en", "No data")):
        ok = await api.get(f"{path}?from=2020-01-01&to=2020-01-31&lang={lang}",
                           role="health_office")
        assert ok.status_code == 200, ok.text
        assert ok.headers["content-type"] == "image/svg+xml"
        assert "<svg" in ok.text and empty in ok.text
    assert (await api.get(path, role="admin")).status_code == 200
    for role, status in (("operator", 403), ("team:CH1", 403), (None, 401)):
        assert (await api.get(path, role=role)).status_code == status, role
    for query in ("from=2020-13-01", "from=2020-02-01&to=2020-01-01", "to=yesterday",
                  "lang=fr"):
        bad = await api.get(f"{path}?{query}", role="health_office")
        assert bad.status_code == 422, (query, bad.text)
        assert bad.headers["content-type"] == "application/problem+json"


@pytest.mark.settings(ack_timeout_s=3600)
async def test_chart_figures(api: Api, db: asyncpg.Connection) -> None:
    """The charts draw the figures of the report: the P90 line at 18 minutes, the
    kecamatan and teams named, the heat map's counts."""
    await _known_incidents(api, db)

    async def chart(name: str) -> str:
        response = await api.get(f"/api/v1/reports/charts/{name}.svg", role="health_office")
        assert response.status_code == 200, response.text
        return response.text
    assert "P90 18 mnt" in await chart("response-histogram")
    assert "Target 15 mnt" in await chart("response-fractiles")
    by_district = await chart("p90-by-district")
    assert "Ujung (n=1)" in by_district and "Soreang (n=1)" in by_district
    assert "RPT-1" in await chart("p90-by-team")
    heat = await chart("incidents-by-hour-weekday")
    assert "Senin" in heat and "Minggu" in heat
    assert "Waktu tanggap (menit)" in await chart("response-histogram")


@pytest.mark.settings(ack_timeout_s=3600)
async def test_incident_points_carry_no_caller_data(api: Api, db: asyncpg.Connection) -> None:
    ids = await _known_incidents(api, db)
    response = await api.get("/api/v1/reports/incidents", role="health_office")
    assert response.status_code == 200, response.text
    for digits in CALLER_DIGITS:
        assert digits not in response.text and digits[-7:] not in response.text
    assert "Bau Massepe" not in response.text and "sesak" not in response.text
    body = response.json()
    assert body["truncated"] is False and body["limit"] == 5000
    assert [item["id"] for item in body["items"]] == ids[::-1]  # newest first
    assert {tuple(sorted(item)) for item in body["items"]} == {
        ("id", "lat", "late", "lon", "priority", "response_s", "status")}
    assert [item["late"] for item in body["items"]] == [None, None, False, True, False]
    assert (await api.get("/api/v1/reports/incidents", role="operator")).status_code == 403
    assert (await api.get("/api/v1/reports/incidents?to=2020-99-01",
                          role="health_office")).status_code == 422


def test_heat_map_takes_any_counts_and_plain_text() -> None:
    """The heat map draws whatever is counted by weekday and hour; names with a dollar
    are text, not mathematics."""
    svg = plots.heatmap_svg([{"weekday": 7, "hour": 23, "count": 41},
                             {"weekday": 1, "hour": 0, "count": 2}],
                            title="Panggilan per jam × hari", lang="en")
    assert b"Sunday" in svg and b">41<" in svg and b"Panggilan" in svg
    bars = plots.bars_svg([("Tim $x$", 3, 1000.0)], target_s=900, title="P90 $", lang="id")
    assert b"Tim $x$" in bars
    assert b"Tidak ada data" in plots.heatmap_svg([], title="Kosong")


# --- the workload, calls and lines sections ---------------------------------------------

ACTIVITY_DAY = "from=2025-03-03&to=2025-03-03"  # Monday 3 March 2025, the whole WITA day
HOSTILE = "<img src=x onerror=alert(1)>"
# Each team's shift and assignments (local times that day). RPT-A: busy 3.5 h of 8 on
# shift (43.75 %); RPT-B: 3 h of 12 (25 %). No team is free 00-07 (none on shift),
# 08:00-09:30 (A busy, B not on shift yet), 13-14 (both busy), 15-16 (A off shift, B
# busy) and 23-24: 11.5 h, 47.9 % of the day, 5 times.
ACTIVITY_TEAMS = {"RPT-A": (("07:00", "15:00"), [("08:00", "09:30"), ("12:00", "14:00")]),
                  "RPT-B": (("11:00", "23:00"), [("13:00", "16:00")])}
# Calls that day (local time, disposition; None: still open). The two dropped ones are
# called back after 120 s and 600 s: P50 360 s = 6 min, P90 552 s = 9.2 min.
ACTIVITY_CALLS = [("00:30", "incident"), ("03:10", "incident"), ("08:05", "info"),
                  ("09:15", "prank"), ("11:40", "dropped"), ("14:20", "dropped"),
                  ("17:00", "incident"), ("22:45", None)]
CALLBACK_DELAYS_S = [120, 600]
# Lines (number, label, priority) and their history (local time, line, its state, the
# active line, critical). Line 1: down 06-09 and from 20:00, up 17 h of 24 (70.8 %);
# line 2: down 21:00-21:30 (97.9 %), the critical half hour; line 3: no history, unknown.
# Failovers 1 -> 2 at 06:00 (back after 180 min), 20:00 (60 min), 21:30 (not back).
ACTIVITY_LINES = [("112", "EKSIS 112", 0), ("0421-21112", f"cadangan {HOSTILE}", 1),
                  ("0421-22112", "kedua", 2)]
LINE_HISTORY = [("2025-03-02 00:00", 1, "up", 1, False), ("2025-03-02 00:00", 2, "up", 1, False),
                ("2025-03-03 06:00", 1, "down", 2, False), ("2025-03-03 09:00", 1, "up", 1, False),
                ("2025-03-03 20:00", 1, "down", 2, False), ("2025-03-03 21:00", 2, "down", 1, True),
                ("2025-03-03 21:30", 2, "up", 2, False)]


async def _activity_data(api: Api, db: asyncpg.Connection) -> None:
    """ACTIVITY_TEAMS, ACTIVITY_CALLS and ACTIVITY_LINES, written in SQL."""
    callers = (f"+6287770002{i:03d}" for i in range(100))
    for code, ((shift_start, shift_end), busy) in ACTIVITY_TEAMS.items():
        team = (await api.team(code, *SOREANG, on_duty=False))["id"]  # a shift near now only
        await insert_shift(db, team, local(f"2025-03-03 {shift_start}"),
                           local(f"2025-03-03 {shift_end}"))
        for start, end in busy:
            incident = await insert_incident(db, caller=next(callers), team_id=team,
                                             received_at=local(f"2025-03-03 {start}"),
                                             assigned_at=local(f"2025-03-03 {start}"))
            await insert_assignment(db, team_id=team, incident_id=incident,
                                    created_at=local(f"2025-03-03 {start}"),
                                    ended_at=local(f"2025-03-03 {end}"))
    delays = iter(CALLBACK_DELAYS_S)
    for at, disposition in ACTIVITY_CALLS:
        caller, received = next(callers), local(f"2025-03-03 {at}")
        call = await insert_call(db, caller=caller, received_at=received, disposition=disposition)
        if disposition == "dropped":
            await db.execute(
                """INSERT INTO callbacks (call_id, caller_number, dropped_at, done_at)
                   VALUES ($1, $2, $3::timestamptz, $3 + make_interval(secs => $4::float8))""",
                call, caller, received, next(delays))
    lines = [await db.fetchval("INSERT INTO lines (number, label, priority) VALUES ($1, $2, $3)"
                               " RETURNING id", *line) for line in ACTIVITY_LINES]
    for at, line, state, active, critical in LINE_HISTORY:
        await db.execute(
            """INSERT INTO line_events (line_id, state, active_line_id, critical, override,
                   reason, actor, at) VALUES ($1, $2, $3, $4, false, 'test', 'test', $5)""",
            lines[line - 1], state, lines[active - 1], critical, local(at))


async def _rows(page: Page, group: str) -> list[list[str]]:
    """The body rows of table `group`, cell texts (row head first)."""
    return await page.eval_on_selector_all(
        f"table[data-group='{group}'] tbody tr",
        "rows => rows.map(r => [...r.children].map(c => c.textContent))")


async def _card(page: Page, name: str) -> str:
    return await page.locator(f"[data-card='{name}'] .card-value").text_content()


# The monitor takes unmonitored lines written in SQL to be up within a poll: not during
# this test (its line history is the test's own).
@pytest.mark.settings(ack_timeout_s=3600, line_poll_s=3600)
async def test_workload_calls_and_lines_sections(browser: Browser, api: Api,  # noqa: F811
                                                 db: asyncpg.Connection,
                                                 service: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    async with db.transaction():
        await do_load_city(db, load_pack("parepare"))
    await _activity_data(api, db)
    watch = Watch(service)
    page = await _health_office_page(browser, service, watch, {})
    asked = []
    page.on("request", lambda r: asked.append(r.url)
            if re.search(r"/api/v1/reports/(workload|calls|lines)\?", r.url) else None)
    await page.goto(f"{service}/reports?{ACTIVITY_DAY}")
    await expect(page.locator("body[data-ready=true]")).to_be_attached()
    # The three reports follow the page's period.
    assert sorted(url.split("/api/v1/reports/")[1] for url in asked) == [
        f"{name}?{ACTIVITY_DAY}" for name in ("calls", "lines", "workload")]

    # Workload: utilisation = busy ÷ on-shift time, by team and by shift.
    await expect(page.locator("#workload .definition")).to_contain_text(
        "Utilisasi = waktu sibuk ÷ waktu dinas")
    assert await _rows(page, "workload-team") == [["RPT-A", "2", "3,5", "8", "43,8%"],
                                                  ["RPT-B", "1", "3", "12", "25%"]]
    # pagi 07-15: A 8 h + B 4 h on shift, A 3.5 h + B 2 h busy; sore: B 8 h, 1 h busy.
    assert await _rows(page, "workload-shift") == [["Pagi", "3", "5,5", "12", "45,8%"],
                                                   ["Sore", "0", "1", "8", "12,5%"],
                                                   ["Malam", "0", "0", "0", "—"]]
    assert await _card(page, "no-free-time") == "11 jam 30 mnt"
    assert await _card(page, "no-free-share") == "47,9%"
    assert await _card(page, "no-free-count") == "5"
    assert await _rows(page, "no-team-free") == [
        ["3 Mar 2025, 00.00", "3 Mar 2025, 07.00", "7 jam"],
        ["3 Mar 2025, 08.00", "3 Mar 2025, 09.30", "1 jam 30 mnt"],
        ["3 Mar 2025, 13.00", "3 Mar 2025, 14.00", "1 jam"],
        ["3 Mar 2025, 15.00", "3 Mar 2025, 16.00", "1 jam"],
        ["3 Mar 2025, 23.00", "4 Mar 2025, 00.00", "1 jam"]]

    # Calls: 8, by disposition; the dropped ones called back.
    assert await _card(page, "calls-total") == "8"
    assert await _rows(page, "dispositions") == [
        ["Menjadi insiden", "3", "37,5%"], ["Informasi", "1", "12,5%"],
        ["Salah sambung", "0", "0%"], ["Iseng", "1", "12,5%"],
        ["Diam / panggilan hantu", "0", "0%"], ["Terputus", "2", "25%"],
        ["Duplikat", "0", "0%"], ["Panggilan uji", "0", "0%"], ["Lainnya", "0", "0%"],
        ["Masih terbuka", "1", "12,5%"]]
    await expect(page.locator("table[data-group=dispositions] tfoot")).to_have_text("Semua8100%")
    assert await _card(page, "calls-dropped") == "2"
    assert await _card(page, "calls-called-back") == "2"
    assert await _card(page, "callback-p50") == "6 mnt"
    assert await _card(page, "callback-p90") == "9,2 mnt"
    assert await _card(page, "callback-max") == "10 mnt"

    # Lines: hours up, down, unknown; availability; failovers from the primary.
    assert await _rows(page, "lines") == [
        ["112", "EKSIS 112", "17", "7", "0", "70,8%", "3"],
        ["0421-21112", f"cadangan {HOSTILE}", "23,5", "0,5", "0", "97,9%", "0"],
        ["0421-22112", "kedua", "0", "0", "24", "0%", "0"]]
    assert await _card(page, "critical") == "30 mnt"
    assert await _card(page, "failover-count") == "3"
    assert await _rows(page, "failovers") == [
        ["3 Mar 2025, 06.00", "112 → 0421-21112", "180"],
        ["3 Mar 2025, 20.00", "112 → 0421-21112", "60"],
        ["3 Mar 2025, 21.30", "112 → 0421-21112", "belum kembali"]]
    assert await page.evaluate("[20, 0, 7260, 41400].map(Activity.duration)") == [
        "< 1 mnt", "0 mnt", "2 jam 1 mnt", "11 jam 30 mnt"]
    # The label is text: no element made of it, nothing ran.
    await expect(page.locator("#activity img")).to_have_count(0)
    await page.locator("#activity").screenshot(path=str(ARTIFACTS / "reports-activity.png"))

    # Printed: every table kept whole on its page.
    await page.emulate_media(media="print")
    breaks = await page.eval_on_selector_all(
        "#activity table", "ts => ts.map(t => getComputedStyle(t).breakInside)")
    assert breaks and set(breaks) == {"avoid"}, breaks
    await page.emulate_media(media="screen")

    # In English: names translated, numbers with a decimal point.
    await page.click("button.lang-toggle")
    await expect(page.locator("body[data-ready=true]")).to_be_attached()
    await expect(page.locator("#workload .definition")).to_contain_text(
        "busy seconds / on-shift seconds")
    assert (await _rows(page, "workload-team"))[0][-1] == "43.8%"
    assert [row[0] for row in await _rows(page, "dispositions")][-1] == "Still open"
    assert (await _rows(page, "failovers"))[-1][-1] == "not back yet"
    await page.click("button.lang-toggle")
    await expect(page.locator("body[data-ready=true]")).to_be_attached()

    # A disposition the page does not know, hostile at that, is shown as it is, as text.
    async def hostile_calls(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        body["dispositions"].insert(0, {"disposition": HOSTILE, "count": 0, "share": 0})
        await route.fulfill(response=response, body=json.dumps(body))
    await page.route(re.compile(r"/api/v1/reports/calls\?"), hostile_calls)
    await page.reload()
    await expect(page.locator("body[data-ready=true]")).to_be_attached()
    assert (await _rows(page, "dispositions"))[0] == [HOSTILE, "0", "0%"]
    await expect(page.locator("#activity img")).to_have_count(0)
    assert await page.evaluate("window.__pwned === undefined")
    assert watch.errors == [] and watch.dialogs == []
    assert watch.foreign == [], watch.foreign
