"""The call-first dashboard in a real headless Chromium: an operator takes three calls
(one becomes an incident, one is closed as a prank, one is attached as a duplicate of
the first, found by the handset's own position) and the incident's timeline, the team's
card, the call log and the dispositions report agree; a withheld number becomes an
incident; what callers and admins typed is shown as text."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from dispatch.cities import load_pack
from dispatch.cities.loader import do_load_city
from tests.browser_support import ARTIFACTS, XSS, Watch, phone_page, staff_page
from tests.calls_support import login_gateway, open_call
from tests.support import PASSWORDS, Api
from tests.test_aml import sms
from tests.test_pages import _operator_page

FIRST = ("0812 3456 7001", "+6281234567001")
PRANK = ("0852 1111 2222", "+6285211112222")
SECOND = ("0813 5555 6666", "+6281355556666")
SCENE = (-4.0005, 119.6402)
# The second caller's handset, 60 m from the first caller's scene (inside the default 300 m).
HANDSET = ("-4.00030", "+119.64070")


async def _staff_page(browser: Browser, base_url: str, watch: Watch, role: str,
                      landing: str = "/dashboard") -> Page:
    return await staff_page(browser, base_url, watch, role, PASSWORDS[role], landing=landing)


async def _team_page(browser: Browser, base_url: str, watch: Watch,
                     code: str) -> tuple[Page, BrowserContext]:
    return await phone_page(browser, base_url, watch, code)


async def _fill_emergency(page: Page, lat: float, lon: float, address: str) -> None:
    form = page.locator("#incident-form")
    await form.locator("input[name=lat]").fill(str(lat))
    await form.locator("input[name=lon]").fill(str(lon))
    await form.locator("input[name=address]").fill(address)
    await form.locator("select[name=complaint_choice]").select_option("Sesak napas")
    await form.locator("label.p1").click()


async def _dispositions_report(browser: Browser, base_url: str, watch: Watch) -> dict:
    """The admin's /reports page for today (WITA): the dispositions table as {label: count}."""
    page = await _staff_page(browser, base_url, watch, "admin")
    today = datetime.now(ZoneInfo("Asia/Makassar")).date().isoformat()
    await page.goto(f"{base_url}/reports?from={today}&to={today}")
    await expect(page.locator("body[data-ready=true]")).to_be_attached()
    rows = await page.eval_on_selector_all(
        "table[data-group='dispositions'] tbody tr",
        "rows => rows.map(r => [...r.children].map(c => c.textContent))")
    await page.locator("table[data-group='dispositions']").screenshot(
        path=str(ARTIFACTS / "calls-dispositions.png"))
    return {row[0]: row[1] for row in rows}


def _pristine(watch: Watch) -> None:
    assert watch.dialogs == [] and watch.errors == [] and watch.foreign == []


@pytest.mark.settings(aml_enabled=True, ack_timeout_s=3600)
async def test_three_calls_one_incident_one_prank_one_duplicate(
        browser: Browser, api: Api, db: asyncpg.Connection, service: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await login_gateway(api, db)
    async with db.transaction():  # the city's boundaries on the map, for the screenshots
        await do_load_city(db, load_pack("parepare"))
    await api.team("CALL1", -4.001, 119.6405)
    await api.team("CALL2", -4.03, 119.66)
    blocked = await api.post("/api/v1/blocklist", {"number": PRANK[0],
                                                   "reason": f"iseng berulang {XSS}"}, role="admin")
    assert blocked.status_code == 201, blocked.text
    watch = Watch(service)
    team, _ = await _team_page(browser, service, watch, "CALL1")
    operator = await _operator_page(browser, service, watch)
    form = operator.locator("#incident-form")
    result = operator.locator("#incident-result")

    # 1. The operator picks up (the number from the handset's display), the call is in
    #    hand, the caller has no history; the emergency becomes an incident.
    await form.locator("input[name=caller_number]").fill(FIRST[0])
    await operator.locator("#pick-up").click()
    await expect(operator.locator("#call-state")).to_contain_text(FIRST[1])
    await expect(operator.locator("#caller-history")).to_contain_text("0 panggilan sebelumnya")
    await _fill_emergency(operator, *SCENE, f"Jl. Bau Massepe {XSS}")
    await form.locator("input[name=complaint_text]").fill(f"napas berbunyi {XSS}")
    await form.locator("button[type=submit]").click()
    await expect(result).to_contain_text("CALL1")
    await expect(operator.locator("#call-state")).to_contain_text("Tidak ada panggilan aktif")
    first = await db.fetchrow("SELECT id, call_id FROM incidents")
    await expect(team.locator("#card")).to_be_visible()
    await expect(team.locator("#card-calls")).to_be_hidden()

    # 2. The gateway opens a call from a blocked number: it rings on the dashboard, the
    #    operator takes it, sees the block and its reason, and closes it as a prank.
    await open_call(api, PRANK[0])
    ringing = operator.locator("#ringing li.ringing-call")
    await expect(ringing).to_contain_text(PRANK[1])
    await expect(ringing).to_contain_text("DIBLOKIR")
    await ringing.locator("button.take").click()
    warning = operator.locator("#block-warning")
    await expect(warning).to_contain_text("DIBLOKIR")
    await expect(warning).to_contain_text(XSS)
    await operator.screenshot(path=str(ARTIFACTS / "calls-blocked.png"))
    await operator.locator("#dispositions button[data-disposition=prank]").click()
    await expect(result).to_contain_text("Iseng")
    await expect(operator.locator("#ringing-box")).to_be_hidden()

    # 3. A second caller about the same emergency: the handset's own position arrives,
    #    the operator takes it into the form, the first incident is offered as a
    #    possible duplicate, and one click attaches the call to it.
    await form.locator("input[name=caller_number]").fill(SECOND[0])
    await operator.locator("#pick-up").click()
    await expect(operator.locator("#call-state")).to_contain_text(SECOND[1])
    aml = await api.post("/api/v1/aml/sms", {"from": SECOND[0], "text": sms(*HANDSET, rd="40")},
                         role="gateway")
    assert aml.status_code == 202, aml.text
    await expect(operator.locator("#aml .aml-fix")).to_contain_text("± 40 m")
    await operator.locator("#aml-use").click()
    await expect(form.locator("input[name=lat]")).to_have_value("-4.000300")
    suggestion = operator.locator(f"#duplicates li.duplicate[data-id='{first['id']}']")
    await expect(suggestion).to_contain_text("60 m")
    await expect(suggestion.locator(".where")).to_contain_text(XSS)
    assert await operator.locator(".leaflet-overlay-pane path").count() >= 2  # circle + point
    await operator.screenshot(path=str(ARTIFACTS / "calls-dashboard.png"))
    await suggestion.locator("button.attach").click()
    await expect(result).to_contain_text(f"insiden #{first['id']}")

    # 4. Everything agrees: one incident, its list row and the team's card say 2 calls,
    #    its timeline names both calls, the call log has the three dispositions.
    assert await db.fetchval("SELECT count(*) FROM incidents") == 1
    item = operator.locator(f"li.incident[data-id='{first['id']}']")
    await expect(item.locator(".calls")).to_have_text("2 panggilan")
    await expect(team.locator("#card-calls")).to_have_text("2 panggilan")
    await team.screenshot(path=str(ARTIFACTS / "calls-team.png"))
    await item.click()
    timeline = operator.locator("#detail-timeline li.ev-call")
    await expect(timeline.filter(has_text="Menjadi insiden")).to_contain_text(FIRST[1])
    await expect(timeline.filter(has_text="Duplikat")).to_contain_text(SECOND[1])
    await expect(operator.locator("#detail .f-calls")).to_have_text("2")
    await operator.screenshot(path=str(ARTIFACTS / "calls-detail.png"))
    log = operator.locator("#call-log li.call-row")
    await expect(log).to_have_count(3)
    await expect(log.nth(0)).to_contain_text("Duplikat")
    await expect(log.nth(1)).to_contain_text("Iseng")
    await expect(log.nth(2)).to_contain_text("Menjadi insiden")
    calls = await db.fetch("SELECT caller_number, disposition, incident_id FROM calls ORDER BY id")
    assert [tuple(c) for c in calls] == [(FIRST[1], "incident", first["id"]),
                                         (PRANK[1], "prank", None),
                                         (SECOND[1], "duplicate", first["id"])]
    assert first["call_id"] is not None
    report = await _dispositions_report(browser, service, watch)
    assert (report["Menjadi insiden"], report["Iseng"], report["Duplikat"]) == ("1", "1", "1")
    assert report.get("Masih terbuka", "0") == "0"

    # 5. The first caller calls again: the history beside the form names the earlier
    #    call and the incident it became.
    await operator.locator("#detail-close").click()
    await form.locator("input[name=caller_number]").fill(FIRST[0])
    history = operator.locator("#caller-history")
    await expect(history).to_contain_text("1 panggilan sebelumnya, 1 insiden")
    await expect(history.locator(".history-calls")).to_contain_text("Menjadi insiden")
    await expect(history.locator(".history-incidents")).to_contain_text(f"napas berbunyi {XSS}")
    suggestion = operator.locator(f"#duplicates li.duplicate[data-id='{first['id']}']")
    await expect(suggestion.locator(".why")).to_contain_text("nomor sama")

    for page in (operator, team):
        assert await page.evaluate("window.__pwned === undefined")
        assert await page.locator("img[src=x]").count() == 0
    _pristine(watch)


async def test_a_withheld_number_becomes_an_incident(browser: Browser, api: Api,
                                                     db: asyncpg.Connection, service: str) -> None:
    await api.team("HID1", -4.001, 119.6405)
    watch = Watch(service)
    operator = await _operator_page(browser, service, watch)
    form = operator.locator("#incident-form")
    # Neither a number nor "withheld": the operator is asked for one, nothing is written.
    await operator.locator("#pick-up").click()
    await expect(operator.locator("#incident-result")).to_contain_text("Nomor disembunyikan")
    assert await db.fetchval("SELECT count(*) FROM calls") == 0

    await form.locator("input[name=withheld]").check()
    await operator.locator("#pick-up").click()
    await expect(operator.locator("#call-state")).to_contain_text("nomor disembunyikan")
    await expect(operator.locator("#caller-history")).to_contain_text("tidak ada riwayat")
    await _fill_emergency(operator, *SCENE, "Jl. Lasinrang 3")
    await form.locator("button[type=submit]").click()
    await expect(operator.locator("#incident-result")).to_contain_text("HID1")
    incident = await db.fetchrow("SELECT id, caller_number, call_id FROM incidents")
    call = await db.fetchrow("SELECT id, caller_number, disposition, incident_id FROM calls")
    assert incident["caller_number"] is None and call["caller_number"] is None
    assert (call["disposition"], call["incident_id"]) == ("incident", incident["id"])
    assert incident["call_id"] == call["id"]
    await operator.locator(f"li.incident[data-id='{incident['id']}']").click()
    await expect(operator.locator("#detail .f-caller")).to_have_text("nomor disembunyikan")
    await expect(operator.locator("#call-log li.call-row")).to_contain_text("nomor disembunyikan")
    # A second withheld call about it, attached from the incident's detail.
    await form.locator("input[name=withheld]").check()
    await operator.locator("#pick-up").click()
    await operator.locator("#detail-attach").click()
    await expect(operator.locator("#incident-result")).to_contain_text(
        f"insiden #{incident['id']}")
    await expect(operator.locator("#detail .f-calls")).to_have_text("2")
    assert await db.fetchval("SELECT count(*) FROM calls WHERE disposition = 'duplicate' "
                             "AND caller_number IS NULL") == 1
    # In English too: the call controls speak it, and the page still runs.
    await operator.locator("#detail-close").click()
    await operator.locator(".lang-toggle").click()
    await expect(operator.locator("#pick-up")).to_have_text("Pick up")
    prank = operator.locator("#dispositions button[data-disposition=prank]")
    await expect(prank).to_have_text("Prank")
    await expect(operator.locator("#call-log li.call-row").last).to_contain_text(
        "number withheldBecame an incident")
    await expect(operator.locator("#call-state")).to_have_text("No call in hand.")
    _pristine(watch)


async def test_admins_block_and_lift_numbers_on_the_dashboard(
        browser: Browser, api: Api, db: asyncpg.Connection, service: str) -> None:
    watch = Watch(service)
    admin = await _staff_page(browser, service, watch, "admin")
    await expect(admin.locator("#conn-banner")).to_be_hidden()
    block = admin.locator("#block-form")
    await block.locator("input[name=number]").fill(PRANK[0])
    await block.locator("input[name=reason]").fill(f"iseng {XSS}")
    await block.locator("select[name=hours]").select_option("1")
    await block.locator("button[type=submit]").click()
    entry = admin.locator(f"li.block-entry[data-number='{PRANK[1]}']")
    await expect(entry.locator(".reason")).to_have_text(f"iseng {XSS}")
    expires = await db.fetchval("SELECT expires_at - created_at FROM blocklist")
    assert 3500 < expires.total_seconds() < 3700
    # A number with an active incident is never blocked: the service's reason is shown.
    await api.incident(caller_number=FIRST[0])
    await block.locator("input[name=number]").fill(FIRST[0])
    await block.locator("input[name=reason]").fill("salah")
    await block.locator("button[type=submit]").click()
    await expect(admin.locator("#block-result")).to_contain_text("Gagal")
    assert await db.fetchval("SELECT count(*) FROM blocklist") == 1
    await entry.locator("button.lift").click()
    await expect(entry).to_have_count(0)
    assert await db.fetchval("SELECT lifted_by FROM blocklist") == "user:admin"
    # Operators have no block-list view.
    operator = await _operator_page(browser, service, watch)
    assert await operator.locator("#blocklist-admin").count() == 0
    assert await admin.evaluate("window.__pwned === undefined")
    _pristine(watch)
