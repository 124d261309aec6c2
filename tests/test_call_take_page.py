"""Two operators' dashboards in a real headless Chromium and one ringing call: when one
takes it, it stops ringing on the other at once, which says who took it; when both
press "Angkat" before either heard of the other, exactly one gets the call and the
other is told who has it, and the call leaves its ringing list."""

from __future__ import annotations

import asyncio

import asyncpg
from playwright.async_api import Browser, Page, expect

from db import users as users_db
from dispatch.auth.service import hash_secret
from tests.browser_support import ARTIFACTS, Watch, staff_page
from tests.calls_support import login_gateway, open_call
from tests.support import Api, wait_until

SECOND_OPERATOR = ("budi", "operator-secret-2")


async def _dashboard(browser: Browser, base_url: str, watch: Watch, username: str,
                     password: str) -> Page:
    page = await staff_page(browser, base_url, watch, username, password)
    await expect(page.locator("#conn-banner")).to_be_hidden()
    return page


async def test_two_operators_one_ringing_call(browser: Browser, api: Api,
                                              db: asyncpg.Connection, service: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await login_gateway(api, db)
    await users_db.upsert_user(db, SECOND_OPERATOR[0], await hash_secret(SECOND_OPERATOR[1]),
                               "operator")
    watch = Watch(service)
    siti = await _dashboard(browser, service, watch, "operator", "operator-secret-1")
    budi = await _dashboard(browser, service, watch, *SECOND_OPERATOR)

    # 1. A call rings on both; Siti takes it: it leaves Budi's ringing list at once,
    #    and his call log says who has it.
    first = await open_call(api, "0812 3456 7001")
    for page in (siti, budi):
        await expect(page.locator(f"#ringing li[data-id='{first['id']}']")).to_be_visible()
    await siti.locator(f"#ringing li[data-id='{first['id']}'] button.take").click()
    await expect(siti.locator("#call-state")).to_contain_text("+6281234567001")
    await expect(budi.locator("#ringing-box")).to_be_hidden()
    await expect(budi.locator(f"#call-log li[data-id='{first['id']}']")).to_contain_text(
        "diangkat oleh operator")
    await expect(budi.locator("#call-state")).to_contain_text("Tidak ada panggilan aktif")
    await siti.locator("#dispositions button[data-disposition=info]").click()
    await expect(siti.locator("#call-state")).to_contain_text("Tidak ada panggilan aktif")

    # 2. The next call: both press "Angkat" before either dashboard heard of the
    #    other's take (their pages stop applying `call.taken` for this round).
    for page in (siti, budi):
        await page.evaluate("delete APPLY['call.taken']")
    second = await open_call(api, "0813 5555 6666")
    buttons = [page.locator(f"#ringing li[data-id='{second['id']}'] button.take")
               for page in (siti, budi)]
    for button in buttons:
        await expect(button).to_be_visible()
    await asyncio.gather(*(button.click() for button in buttons))
    taker = await wait_until(lambda: db.fetchval(
        "SELECT taken_by FROM calls WHERE id = $1", second["id"]), what="the call taken")
    winner, loser = (siti, budi) if taker == "operator" else (budi, siti)
    await expect(winner.locator("#call-state")).to_contain_text("+6281355556666")
    await expect(loser.locator("#incident-result")).to_contain_text(
        f"Panggilan #{second['id']} sudah diangkat oleh {taker}")
    await expect(loser.locator("#call-state")).to_contain_text("Tidak ada panggilan aktif")
    await expect(loser.locator("#ringing-box")).to_be_hidden()
    await expect(loser.locator(f"#call-log li[data-id='{second['id']}']")).to_contain_text(
        f"diangkat oleh {taker}")
    await loser.screenshot(path=str(ARTIFACTS / "calls-taken-by-other.png"))
    assert await db.fetchval("SELECT count(*) FROM events WHERE name = 'call.taken'") == 2
    assert watch.dialogs == [] and watch.errors == [] and watch.foreign == []
