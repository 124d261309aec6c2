"""Issue 13 on the dashboard, in a real headless Chromium: the team board shows which
channel reached each team and when, the alarm of a team that answered neither the app
nor SMS shows its numbers to call, and SMS from teams are listed with what they came
to (garbage flagged)."""

from __future__ import annotations

import asyncpg
from playwright.async_api import Browser, expect

from tests.browser_support import Watch
from tests.sms_support import (
    SECOND_NUMBER,
    TEAM_NUMBER,
    gateway_stand_in,
    reply,
    sms_settings,
    sms_team,
)
from tests.support import Api, running_service, wait_until
from tests.test_pages import _operator_page


async def test_channel_alarm_and_replies_on_the_dashboard(browser: Browser, dsn: str,
                                                          db: asyncpg.Connection) -> None:
    async with gateway_stand_in() as gateway, running_service(
            sms_settings(dsn, gateway.setting("kannel"), ack_timeout_s=3)) as url, \
            Api(url, dsn) as api:
        await api.login_all()
        await sms_team(api, "JAUH", -4.0, 119.64, TEAM_NUMBER, SECOND_NUMBER)
        await sms_team(api, "DEKAT", -4.01, 119.645, "+6281234500003")
        watch = Watch(url)
        page = await _operator_page(browser, url, watch)
        incident = (await api.incident(-4.0, 119.64, priority=1)).json()
        row = page.locator('#team-list tr[data-code="JAUH"]')
        await expect(row.locator(".team-channel")).to_contain_text("SMS")
        # Nobody answers: the alarm with both numbers, the team "Tak terjangkau".
        alarm = page.locator("#sms-alarm")
        await expect(alarm).to_be_visible()
        await expect(alarm).to_contain_text(f"#{incident['id']}")
        await expect(alarm.locator("a.call-number")).to_have_count(2)
        await expect(alarm.locator(f'a[href="tel:{TEAM_NUMBER}"]')).to_have_count(1)
        await expect(row.locator(".team-status")).to_have_text("Tak terjangkau")
        # The next team acknowledges by SMS; a garbled SMS is flagged to the operator.
        await wait_until(lambda: gateway.texts("+6281234500003"), what="the next team's SMS")
        assert (await reply(api, "+6281234500003", "1"))["outcome"] == "applied"
        await reply(api, TEAM_NUMBER, "ok otw")
        await expect(page.locator("#sms-list li.not_understood")).to_contain_text("ok otw")
        await expect(alarm).to_be_hidden()  # the silent team was heard from
        await expect(page.locator('#team-list tr[data-code="DEKAT"] .team-channel')
                     ).to_contain_text("SMS")
        assert watch.errors == [] and watch.foreign == [] and watch.dialogs == []
