"""The planner page in a real headless Chromium: the health office edits a scenario
on the map, runs a small one in the background worker and sees its results, map and
fractile curve; compares two scenarios; asks for the best next base; and a wrong
field is named, not a broken page. A screenshot is saved to tests/artifacts/."""

from __future__ import annotations

import re

import asyncpg
from playwright.async_api import Browser, Page, expect

from dispatch.cities import load_pack
from dispatch.cities.loader import do_load_city
from dispatch.planner import ScenarioError, parse_scenario
from tests.browser_support import ARTIFACTS, XSS, Watch, staff_page
from tests.support import PASSWORDS

KELURAHAN = len(load_pack("parepare").kelurahan)
PERCENT = re.compile(r"^\d+(,\d+)?%$")  # Indonesian: "4,5%"


async def _planner_page(browser: Browser, base_url: str, watch: Watch) -> Page:
    """The health office logs in, lands on the reports and follows its link."""
    page = await staff_page(browser, base_url, watch, "health_office",
                            PASSWORDS["health_office"], landing="/reports", height=900)
    await page.click("nav.page-nav a[href='/planner']")
    await page.wait_for_url(f"{base_url}/planner")
    await expect(page.locator("body[data-ready=true]")).to_be_attached()
    return page


async def _run(page: Page, button: str, status: str = "shown") -> None:
    await page.click(button)
    await expect(page.locator(f"body[data-run-status={status}]")).to_be_attached()


async def _curve_drawn(page: Page) -> None:
    await page.wait_for_function(
        "() => { const img = document.querySelector('#result-curve img');"
        " return img && img.complete && img.naturalWidth > 0; }")


async def _team_codes(page: Page) -> list[str]:
    return await page.eval_on_selector_all("#teams input[data-key=code]",
                                           "inputs => inputs.map(i => i.value)")


async def test_planner_page_runs_a_small_scenario(browser: Browser, service: str,
                                                  db: asyncpg.Connection) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    async with db.transaction():
        await do_load_city(db, load_pack("parepare"))
    watch = Watch(service)
    page = await _planner_page(browser, service, watch)
    await expect(page.locator("#edit-title")).to_have_text("Skenario")
    await expect(page.locator("#router-choice")).to_be_hidden()  # no road graph here
    await page.fill("#run-form input[name=replications]", "3")
    await page.fill("#run-form input[name=days]", "2")

    # Two teams at RSUD, then a third added by clicking Puskesmas Lakessi on the map.
    await page.select_option("#preset", label="2 tim di RSUD")
    assert await _team_codes(page) == ["RSUD-1", "RSUD-2"]
    sites = page.locator("#edit-map path.site-marker")
    await expect(sites).to_have_count(7)
    await sites.nth(1).click()
    assert await _team_codes(page) == ["RSUD-1", "RSUD-2", "T3"]
    await expect(page.locator("#teams tr").nth(2).locator("input[data-key=base_name]")) \
        .to_have_value("Puskesmas Lakessi")
    await expect(page.locator("#edit-map path.base-marker")).to_have_count(3)

    # A wrong latitude is named and marked; nothing runs.
    lat = page.locator("#teams tr").nth(0).locator("input[data-key=lat]")
    await lat.fill("utara")
    await _run(page, "#run-button", "error")
    await expect(page.locator("#run-error li")).to_have_text(
        [f"scenario.teams[0].base.lat: {_message()}"])
    await expect(lat).to_have_class(re.compile(r"\binvalid\b"))
    await lat.fill("-4.034919")

    # The run: progress, then the cards, the map by kelurahan and the curve.
    await page.fill("#scenario-form input[name=name]", f"Tiga tim {XSS}")
    await _run(page, "#run-button")
    await expect(page.locator("#run-progress")).to_have_js_property("value", 1)
    await expect(page.locator("#run-text")).to_contain_text("Selesai")
    await expect(page.locator(".result-column h3")).to_have_text([f"A · Tiga tim {XSS}"])
    late = page.locator("[data-scenario='0'] [data-card=late_share]")
    await expect(late.locator(".card-label")).to_have_text("Terlambat (> 15 mnt)")
    await expect(late.locator(".card-value")).to_have_text(PERCENT)
    await expect(late.locator(".card-note")).to_contain_text("IK 95 %")
    await expect(page.locator("#late-map path.kelurahan")).to_have_count(KELURAHAN)
    await expect(page.locator("#late-map path.result-base")).to_have_count(2)  # RSUD, Lakessi
    await expect(page.locator("#map-legend li")).to_have_count(7)
    await _curve_drawn(page)
    codes = await page.eval_on_selector_all(
        "table[data-group=team-utilisation] tbody tr td:nth-child(2)",
        "cells => cells.map(c => c.textContent)")
    assert codes == ["RSUD-1", "RSUD-2", "T3"]
    await expect(page.locator("#results img")).to_have_count(1)  # the name made no element
    await page.screenshot(path=str(ARTIFACTS / "planner.png"), full_page=True)

    # A and B side by side, with their paired differences.
    await page.check("#compare")
    await page.click(".scenario-tabs .tab[data-slot='1']")
    await expect(page.locator("#scenario-form input[name=name]")).to_have_value("3 pangkalan")
    await _run(page, "#run-button")
    await expect(page.locator(".result-column")).to_have_count(2)
    await expect(page.locator("table[data-group=differences] caption")).to_contain_text(
        f"3 pangkalan - Tiga tim {XSS}")
    await expect(page.locator("table[data-group=differences] tbody tr")).to_have_count(6)
    await expect(page.locator("#run-text")).to_have_text(re.compile(r"^Selesai dalam \d"))
    await page.click("#map-switch button[data-scenario='1']")
    await expect(page.locator("#late-map path.kelurahan")).to_have_count(KELURAHAN)
    await expect(page.locator("#late-map path.result-base")).to_have_count(3)
    await _curve_drawn(page)
    await page.screenshot(path=str(ARTIFACTS / "planner-compare.png"), full_page=True)

    # The best next base for B, and using it adds its team.
    await _run(page, "#search-button")
    rows = page.locator("table[data-group=search] tbody tr")
    await expect(rows).to_have_count(3)
    site = await rows.nth(0).locator("td.sites").text_content()
    await page.locator("#search-results").screenshot(path=str(ARTIFACTS / "planner-search.png"))
    await rows.nth(0).locator("button.use-bases").click()
    await expect(page.locator("#teams tr")).to_have_count(4)
    await expect(page.locator("#teams tr").nth(3).locator("input[data-key=base_name]")) \
        .to_have_value(site)

    # In English: the page's own words and the run's.
    await page.click("button.lang-toggle")
    await expect(page.locator("body[data-ready=true]")).to_be_attached()
    await expect(page.locator("#edit-title")).to_have_text("Scenario")
    await expect(page.locator("#run-button")).to_have_text("Run the simulation")
    assert await page.evaluate("window.__pwned === undefined")
    assert watch.errors == [] and watch.dialogs == []
    assert watch.foreign == [], watch.foreign


def _message() -> str:
    """What the scenario parser says of a latitude that is not a number."""
    try:
        parse_scenario({"teams": [{"code": "X", "base": {"lat": "utara", "lon": 119.6}}]})
    except ScenarioError as exc:
        return exc.errors[0][1]
    raise AssertionError("a latitude 'utara' was accepted")
