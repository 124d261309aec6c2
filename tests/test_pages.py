"""The two live screens in a real headless Chromium: an operator logs a call, the
team's phone gets it live, steps flow back, offline steps arrive once, and text
typed by callers never runs as markup."""

from __future__ import annotations

import asyncpg
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser_support import ARTIFACTS, XSS, Watch, phone_page, staff_page
from tests.support import PASSWORDS, Api


async def _operator_page(browser: Browser, base_url: str, watch: Watch) -> Page:
    page = await staff_page(browser, base_url, watch, "operator", PASSWORDS["operator"],
                            height=768)
    await expect(page.locator("#conn-banner")).to_be_hidden()
    return page


async def _team_page(browser: Browser, base_url: str, watch: Watch) -> tuple[Page, BrowserContext]:
    return await phone_page(browser, base_url, watch, "PAGE1", position=(-4.0012, 119.6405))


async def _submit_call(page: Page) -> None:
    form = page.locator("#incident-form")
    await form.locator("input[name=caller_number]").fill("0812 3456 7890")
    await form.locator("input[name=lat]").fill("-4.0005")
    await form.locator("input[name=lon]").fill("119.6402")
    await form.locator("input[name=address]").fill(f"Jl. Bau Massepe {XSS}")
    await form.locator("select[name=complaint_choice]").select_option("Sesak napas")
    await form.locator("label.p1").click()
    await form.locator("textarea[name=notes]").fill(f"pasien lansia {XSS}")
    await form.locator("button[type=submit]").click()


async def _en_route_events(db: asyncpg.Connection) -> int:
    return await db.fetchval(
        "SELECT count(*) FROM events WHERE name = 'incident.updated' "
        "AND data->>'action' = 'en_route'")


async def test_operator_and_team_screens(browser: Browser, api: Api, db: asyncpg.Connection,
                                         service: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await api.team("PAGE1", -4.001, 119.6405)
    await api.team("PAGE2", -4.03, 119.66)
    watch = Watch(service)
    team, team_context = await _team_page(browser, service, watch)
    await expect(team.locator("#idle")).to_be_visible()
    operator = await _operator_page(browser, service, watch)

    # 1. The call is logged; the allocated team appears without reloading.
    await _submit_call(operator)
    await expect(operator.locator("#incident-result")).to_contain_text("PAGE1")
    item = operator.locator("li.incident").first
    await expect(item).to_contain_text("PAGE1")
    await expect(item.locator(".where")).to_contain_text(XSS)

    # 2. The phone gets the assignment live; acknowledging shows on the dashboard.
    card = team.locator("#card")
    await expect(card).to_be_visible()
    await expect(team.locator("#card-address")).to_contain_text(XSS)
    await expect(team.locator("#card-notes")).to_contain_text(XSS)
    await team.screenshot(path=str(ARTIFACTS / "team.png"))
    await team.locator("#next-step").click()
    await expect(item.locator(".status")).to_contain_text("Diterima")

    # 3. En route tapped without signal: queued on the phone, sent once when back.
    await team_context.set_offline(True)
    await team.locator("#next-step").click()
    await expect(team.locator("#pending")).to_be_visible()
    await expect(team.locator("#net-state")).to_contain_text("Luring")
    assert await _en_route_events(db) == 0
    await team_context.set_offline(False)
    await team.evaluate("window.dispatchEvent(new Event('online'))")
    await expect(item.locator(".status")).to_contain_text("Menuju lokasi")
    await expect(team.locator("#pending")).to_be_hidden()
    assert await _en_route_events(db) == 1

    # 4. What callers typed is text everywhere: nothing ran, no element was made from it.
    await operator.screenshot(path=str(ARTIFACTS / "dashboard.png"))
    await operator.locator("li.incident").first.click()
    await expect(operator.locator("#detail .f-notes")).to_contain_text(XSS)
    await operator.screenshot(path=str(ARTIFACTS / "dashboard-detail.png"))
    for page in (operator, team):
        assert await page.evaluate("window.__pwned === undefined")
        assert await page.locator("img[src=x]").count() == 0
    assert watch.dialogs == []
    assert watch.errors == []
    # 5. No request left the service's origin.
    assert watch.foreign == []


async def test_team_view_installs_and_loads_without_signal(browser: Browser, api: Api,
                                                          service: str) -> None:
    await api.team("PAGE1", -4.001, 119.6405)
    watch = Watch(service)
    team, context = await _team_page(browser, service, watch)
    manifest = await team.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
    assert manifest["start_url"] == "/team" and manifest["display"] == "standalone"
    await team.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await team.reload()  # now under the service worker's control
    await expect(team.locator("#idle")).to_be_visible()
    await context.set_offline(True)
    await team.reload()
    await expect(team.locator("#idle")).to_be_visible()
    await expect(team.locator("#net-state")).to_contain_text("Luring")
    await context.set_offline(False)
    assert watch.errors == [] and watch.foreign == []


async def test_line_banner_and_callbacks_on_the_dashboard(browser: Browser, settings, dsn: str,
                                                          db: asyncpg.Connection) -> None:
    from dataclasses import replace

    from tests.support import running_service
    async with running_service(replace(settings, line_poll_s=0.1)) as url, Api(url, dsn) as api:
        await api.login_all()
        primary = (await api.post("/api/v1/lines", {
            "number": "112", "label": "EKSIS 112", "priority": 0,
            "probe": {"kind": "heartbeat", "timeout_s": 1}}, role="admin")).json()
        backup = (await api.post("/api/v1/lines", {
            "number": "081100000112", "label": "Cadangan", "priority": 1,
            "probe": {"kind": "heartbeat", "timeout_s": 60}}, role="admin")).json()
        assert (await api.post(f"/api/v1/lines/{backup['id']}/heartbeat")).status_code == 204
        call = await api.post("/api/v1/calls", {"caller_number": "0812 9999 1234",
                                                "line_id": primary["id"]})
        assert call.status_code == 201
        watch = Watch(url)
        operator = await _operator_page(browser, url, watch)
        # The primary falls silent: the banner names the backup, the caller waits for
        # a call back.
        banner = operator.locator("#line-banner")
        await expect(banner).to_contain_text("081100000112 (Cadangan)")
        callback = operator.locator("#callback-list li.callback")
        await expect(callback).to_contain_text("+6281299991234")
        await callback.locator("button").click()
        await expect(operator.locator("#callback-list li.callback")).to_have_count(0)
        assert await db.fetchval("SELECT count(*) FROM callbacks WHERE done_at IS NOT NULL") == 1
        assert watch.errors == [] and watch.foreign == []


async def test_dashboard_applies_events_and_asks_again_only_after_a_gap(
        browser: Browser, api: Api, service: str) -> None:
    """Events carry whole teams and incidents: the dashboard shows a GPS fix, a new
    incident and a team's step without fetching the lists again; a gap in seq (an event
    it never got) makes it fetch them."""
    team = await api.team("GPS1", -4.001, 119.6405)
    await api.device_token("GPS1")
    watch = Watch(service)
    operator = await _operator_page(browser, service, watch)
    row = operator.locator("tr.team[data-code=GPS1]")
    await expect(row).to_contain_text("Siaga")
    fetched: list[str] = []
    operator.on("request", lambda r: fetched.append(r.url) if "/api/v1/" in r.url else None)

    fix = await api.post("/api/v1/team/location", {"lat": -4.0105, "lon": 119.6262},
                         role="team:GPS1")
    assert fix.status_code == 204
    await expect(row).to_contain_text("GPS")
    incident = (await api.incident(-4.0005, 119.6402, complaint="kejang")).json()
    item = operator.locator(f"li.incident[data-id='{incident['id']}']")
    await expect(item).to_contain_text("GPS1")
    await api.step("GPS1", "acknowledge", incident["id"])
    await expect(item.locator(".status")).to_contain_text("Diterima")
    await expect(row.locator(".team-status")).not_to_contain_text("Siaga")
    assert fetched == [], f"the dashboard asked again: {fetched}"

    # An event after a gap: the dashboard cannot know what it missed, so it asks.
    async with operator.expect_request(lambda r: "/api/v1/incidents?active=true" in r.url,
                                       timeout=30000):
        await operator.evaluate("""live.receive({type: "event", seq: live.lastSeq + 2,
            name: "team.updated", at: new Date().toISOString(), data: {}})""")
    await expect(row).to_contain_text("GPS")
    assert team["code"] == "GPS1" and watch.errors == [] and watch.foreign == []
