"""The road map in a real headless Chromium, with the synthetic town's graph loaded and
no tile server: the dashboard draws the main roads, every road once zoomed in, the
kelurahan names and the teams' codes; the team's "Peta" shows its route inside the
page. Screenshots go to tests/artifacts/ (dashboard-roads-city.png,
dashboard-roads.png, team-route.png)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Browser, Page, expect

from dispatch.cities import load_pack
from dispatch.cities.loader import do_load_city
from dispatch.config import Settings
from tests.browser_support import ARTIFACTS, Watch, phone_page, staff_page
from tests.roadmap_support import junction, town_settings, write_town
from tests.support import PASSWORDS, WAIT_S, Api

expect.set_options(timeout=WAIT_S * 1000)
TOWN_CENTRE = junction(5, 5)


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_town(tmp_path_factory.mktemp("roadmap-pages"))


@pytest.fixture
def settings(settings: Settings, extract: Path, request: pytest.FixtureRequest) -> Settings:
    """The town's graph and no tile server, unless the test names its own router."""
    return town_settings(settings, extract, request, tile_url=None)


async def operator_page(browser: Browser, base_url: str, watch: Watch) -> Page:
    return await staff_page(browser, base_url, watch, "operator", PASSWORDS["operator"],
                            height=768)


async def team_page(browser: Browser, base_url: str, watch: Watch, code: str) -> Page:
    page, _ = await phone_page(browser, base_url, watch, code)
    return page


async def test_dashboard_draws_the_roads_and_labelled_markers(
        browser: Browser, api: Api, db: asyncpg.Connection, service: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await do_load_city(db, load_pack("parepare"))
    await api.team("JLN1", *junction(2, 2))
    await api.team("JLN2", *junction(9, 1))
    watch = Watch(service)
    page = await operator_page(browser, service, watch)

    # At the opening zoom: the six main streets, no minor ones; names on the map.
    await expect(page.locator("path.road-main")).to_have_count(6)
    await expect(page.locator("path.road-primary")).to_have_count(4)
    assert await page.locator("path.road-minor").count() == 0
    await expect(page.locator(".leaflet-tooltip.team-label", has_text="JLN1")).to_be_visible()
    await expect(page.locator(".leaflet-tooltip.team-label", has_text="JLN2")).to_be_visible()
    districts = page.locator(".leaflet-tooltip.district-label")
    await expect(districts).to_have_count(22)
    await expect(districts.filter(has_text="Lakessi")).to_have_count(1)
    await page.screenshot(path=str(ARTIFACTS / "dashboard-roads-city.png"))

    # Zoomed in on the town: its sixteen residential streets join the main ones.
    await page.evaluate("([lat, lon]) => map.setView([lat, lon], 16)", list(TOWN_CENTRE))
    await expect(page.locator("path.road-minor")).to_have_count(16)
    await expect(page.locator("path.road-main")).to_have_count(6)
    await page.screenshot(path=str(ARTIFACTS / "dashboard-roads.png"))
    # Zoomed out again: the minor streets go.
    await page.evaluate("map.setZoom(13)")
    await expect(page.locator("path.road-minor")).to_have_count(0)
    assert watch.errors == [] and watch.dialogs == [] and watch.foreign == []


async def test_the_team_sees_its_route_on_peta(browser: Browser, api: Api,
                                               service: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await api.team("JLN1", *junction(2, 2))
    # Sent before the phone opens: the page finds it when it loads (an event arriving
    # while the page's first fetch is under way is another test's subject).
    incident = (await api.incident(*junction(3, 7))).json()
    assert incident["status"] == "assigned"
    watch = Watch(service)
    page = await team_page(browser, service, watch, "JLN1")
    await expect(page.locator("#card")).to_be_visible()

    await page.locator("#nav-map").click()
    await expect(page.locator("#route-panel")).to_be_visible()
    await expect(page.locator("path.route-line")).to_have_count(1)
    # 6 blocks of 100 m, in Indonesian first.
    await expect(page.locator("#route-summary")).to_contain_text("Rute 0,6 km")
    labels = page.locator(".leaflet-tooltip.route-label")
    await expect(labels.filter(has_text="Posisi tim")).to_be_visible()
    await expect(labels.filter(has_text="Lokasi insiden")).to_be_visible()
    # The streets around it, every one at this zoom.
    await expect(page.locator("#route-map path.road-main").first).to_be_attached()
    await expect(page.locator("#route-map path.road-minor").first).to_be_attached()
    await page.screenshot(path=str(ARTIFACTS / "team-route.png"))
    await page.locator("#route-close").click()
    await expect(page.locator("#route-panel")).to_be_hidden()
    # The map stayed in the page: nothing was asked of another site.
    assert watch.errors == [] and watch.dialogs == [] and watch.foreign == []


@pytest.mark.settings(router="geodesic")
async def test_without_a_graph_the_dashboard_asks_for_no_roads(browser: Browser, api: Api,
                                                               service: str) -> None:
    await api.team("JLN1", *junction(2, 2))
    watch = Watch(service)
    page = await operator_page(browser, service, watch)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    await page.reload()
    # The roads would have been asked for before the teams are drawn (dashboard.js).
    await expect(page.locator(".leaflet-tooltip.team-label", has_text="JLN1")).to_be_visible()
    await page.evaluate("([lat, lon]) => map.setView([lat, lon], 16)", list(TOWN_CENTRE))
    await page.evaluate("map.setZoom(15)")
    await expect(page.locator(".leaflet-tooltip.team-label", has_text="JLN1")).to_be_visible()
    assert await page.locator("path.road").count() == 0
    assert not [url for url in asked if "/api/v1/roads" in url]
    assert watch.errors == [] and watch.foreign == []
