"""The health office's /reports page in a real headless Chromium, its chart images
and the map's incident points, over incidents whose step times are known."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from playwright.async_api import Browser, Page, expect

from dispatch.cities import load_pack
from dispatch.cities.loader import do_load_city
from dispatch.reports import plots
from dispatch.reports.charts import CHARTS
from tests.support import PASSWORDS, Api
from tests.test_pages import ARTIFACTS, Watch, browser  # noqa: F401  (the browser fixture)

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
    tables = page.locator("table.report-table")
    await expect(tables).to_have_count(5)
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
