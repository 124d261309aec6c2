"""The team's phone keeps its queued steps through a lost session: a step tapped
without signal survives a revoked token (the phone asks for a new login and sends it
after) and a stale CSRF token (fetched again, sent once); a step the server refuses
for good is shown to the team and leaves the queue."""

from __future__ import annotations

import asyncio

import asyncpg
from playwright.async_api import Browser, BrowserContext, Page, Route, expect

from tests.browser_support import Watch
from tests.support import WAIT_S, Api, wait_until

CODE = "PQ1"
expect.set_options(timeout=WAIT_S * 1000)


async def _log_in(page: Page, base_url: str) -> None:
    await page.fill("input[name=team_code]", CODE)
    await page.fill("input[name=pin]", "432100")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base_url}/team")


async def _phone_with_an_assignment(browser: Browser, api: Api, base_url: str,
                                    watch: Watch) -> tuple[Page, BrowserContext, int]:
    """The team logged in on a phone that shows its assignment; the incident id. The
    incident comes first, so that the page's first look at the server finds it."""
    incident = (await api.incident(-4.0005, 119.6402)).json()
    context = await browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True,
        locale="id-ID", permissions=["geolocation"],
        geolocation={"latitude": -4.0012, "longitude": 119.6405})
    watch.attach(context)
    page = await context.new_page()
    await page.goto(f"{base_url}/team/login")
    await _log_in(page, base_url)
    await expect(page.locator("#card")).to_be_visible()
    await expect(page.locator("#next-step")).to_have_attribute("data-action", "acknowledge")
    return page, context, incident["id"]


async def _acks(db: asyncpg.Connection, incident_id: int) -> int:
    return await db.fetchval(
        "SELECT count(*) FROM events WHERE name = 'incident.updated' AND (data->>'id')::int = $1"
        " AND data->>'action' = 'acknowledge'", incident_id)


async def _queued(page: Page) -> int:
    return await page.evaluate("pending().length")


async def test_a_revoked_session_keeps_the_queue_until_the_team_logs_in_again(
        browser: Browser, api: Api, db: asyncpg.Connection, service: str) -> None:
    team = await api.team(CODE, -4.001, 119.6405)
    watch = Watch(service)
    page, context, incident_id = await _phone_with_an_assignment(browser, api, service, watch)

    await context.set_offline(True)
    await page.locator("#next-step").click()
    await expect(page.locator("#pending")).to_be_visible()
    await db.execute("UPDATE tokens SET revoked_at = now() WHERE team_id = $1", team["id"])
    await context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")

    # The phone says it must log in again; the step stays queued, nothing was sent.
    await expect(page.locator("#relogin")).to_be_visible()
    await expect(page.locator("#net-state")).to_contain_text("Perlu masuk lagi")
    await expect(page.locator("#pending")).to_be_visible()
    assert await _queued(page) == 1
    assert await _acks(db, incident_id) == 0

    await page.locator("#relogin a").click()
    await page.wait_for_url(f"{service}/team/login")
    await expect(page.locator("#waiting-steps")).to_contain_text("1 langkah menunggu")
    await _log_in(page, service)
    await wait_until(lambda: _acks(db, incident_id), what="the queued acknowledgement")
    await expect(page.locator("#pending")).to_be_hidden()
    await expect(page.locator("#relogin")).to_be_hidden()
    assert await _queued(page) == 0
    assert await _acks(db, incident_id) == 1
    assert watch.errors == [] and watch.foreign == []


async def test_a_stale_csrf_token_is_fetched_again_and_the_step_sent_once(
        browser: Browser, api: Api, db: asyncpg.Connection, service: str) -> None:
    await api.team(CODE, -4.001, 119.6405)
    watch = Watch(service)
    page, context, incident_id = await _phone_with_an_assignment(browser, api, service, watch)
    # As after a restart with another key: the token in the page no longer matches.
    await page.evaluate("CSRF = 'stale-token-of-an-old-key'")
    await context.set_offline(True)
    await page.locator("#next-step").click()
    await expect(page.locator("#pending")).to_be_visible()
    await context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await wait_until(lambda: _acks(db, incident_id), what="the acknowledgement")
    await expect(page.locator("#pending")).to_be_hidden()
    assert await page.evaluate("CSRF") != "stale-token-of-an-old-key"
    await expect(page.locator("#relogin")).to_be_hidden()
    assert await _acks(db, incident_id) == 1
    assert watch.errors == [] and watch.foreign == []


async def test_a_step_refused_for_good_is_shown_and_leaves_the_queue(
        browser: Browser, api: Api, db: asyncpg.Connection, service: str) -> None:
    await api.team(CODE, -4.001, 119.6405)
    watch = Watch(service)
    page, context, incident_id = await _phone_with_an_assignment(browser, api, service, watch)
    # A step that does not follow from "assigned" (409), queued while without signal.
    await context.set_offline(True)
    await page.evaluate("""(id) => savePending([{action: "at_hospital", incident_id: id,
        client_id: "refused-1", at: new Date().toISOString()}])""", incident_id)
    await context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")

    refused = page.locator("#refused")
    await expect(refused).to_be_visible()
    await expect(refused).to_contain_text("TIBA DI RUMAH SAKIT")
    await expect(refused).to_contain_text("tidak sesuai status insiden")
    await expect(page.locator("#pending")).to_be_hidden()
    assert await _queued(page) == 0
    # The card shows the server's state again, and the notice stays until dismissed.
    await expect(page.locator("#next-step")).to_have_attribute("data-action", "acknowledge")
    await page.reload()
    await expect(refused).to_be_visible()
    await page.locator("#refused-dismiss").click()
    await expect(refused).to_be_hidden()
    assert await db.fetchval("SELECT count(*) FROM events WHERE data->>'action' = 'at_hospital'"
                             " AND (data->>'id')::int = $1", incident_id) == 0
    assert watch.errors == [] and watch.foreign == []


async def test_an_answer_older_than_the_card_does_not_hide_a_new_assignment(
        browser: Browser, api: Api, service: str) -> None:
    """The page's first look at the server is answered "no assignment", but the answer
    arrives after the live socket brought an assignment: the card stays, and the phone
    asks the server again instead of believing the older answer."""
    await api.team(CODE, -4.001, 119.6405)
    watch = Watch(service)
    context = await browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
    watch.attach(context)
    page = await context.new_page()
    held: asyncio.Future[Route] = asyncio.get_running_loop().create_future()

    async def hold_the_first(route: Route) -> None:
        if held.done():
            await route.continue_()
        else:
            held.set_result(route)
    await page.route("**/api/v1/team/assignment", hold_the_first)
    await page.goto(f"{service}/team/login")
    await _log_in(page, service)

    first = await held
    stale = await first.fetch()  # the server says: no assignment
    assert (await stale.json())["assignment"] is None
    await page.wait_for_function("reaching === true")
    incident = (await api.incident(-4.0005, 119.6402)).json()
    await expect(page.locator("#card")).to_be_visible()

    asked = [0]
    page.on("request", lambda r: asked.__setitem__(0, asked[0] + 1)
            if r.url.endswith("/api/v1/team/assignment") else None)
    await first.fulfill(response=stale)
    # The older answer is not believed: the phone asks again (before the fix it showed
    # "no assignment" and asked nothing more).
    await wait_until(lambda: asked[0] > 0, what="the phone asking again")
    await page.wait_for_function(
        "(id) => current !== null && current.incident.id === id", arg=incident["id"])
    await expect(page.locator("#card")).to_be_visible()
    await expect(page.locator("#next-step")).to_have_attribute("data-action", "acknowledge")
    assert watch.errors == [] and watch.foreign == []
