"""Issue 13, test 4: an assignment answered neither by the phone's socket nor by SMS
raises the alarm with the team's numbers before the next team is sent; the silent
team is `unreachable` (not out of service) and comes back by itself when it is heard
from; its SMS acknowledgement arriving late moves nothing (docs/sms.md)."""

from __future__ import annotations

import time

import asyncpg

from dispatch.sms.texts import get_short_code
from realtime.client import EventClient
from tests.sms_support import (
    SECOND_NUMBER,
    TEAM_NUMBER,
    gateway_stand_in,
    reply,
    sms_settings,
    sms_team,
)
from tests.support import Api, running_service, wait_until, ws_url


async def _team(api: Api, code: str) -> dict:
    items = (await api.get("/api/v1/teams")).json()["items"]
    return next(t for t in items if t["code"] == code)


async def test_neither_channel_answers(dsn: str, db: asyncpg.Connection) -> None:
    async with gateway_stand_in() as gateway, running_service(
            sms_settings(dsn, gateway.setting("kannel"), ack_timeout_s=3,
                         sms_after_ack_share=0.5)) as url, Api(url, dsn) as api:
        await api.login_all()
        silent = await sms_team(api, "SILENT", -4.0, 119.64, TEAM_NUMBER, SECOND_NUMBER)
        following = await sms_team(api, "NEXT", -4.01, 119.645, "+6281234500003")
        token = await api.device_token("SILENT")
        async with EventClient(ws_url(url), api.tokens["operator"]) as operator, \
                EventClient(ws_url(url), token):
            started = time.monotonic()
            incident = (await api.incident(-4.0, 119.64, priority=1)).json()
            iid, code = incident["id"], get_short_code(incident["id"])
            assert incident["assignment"]["team_id"] == silent["id"]
            # The phone's socket is open but nobody taps: half the ack timeout later
            # the assignment goes by SMS too, to both registered numbers.
            await wait_until(lambda: gateway.texts(TEAM_NUMBER) and gateway.texts(SECOND_NUMBER),
                             what="the assignment SMS")
            sms_s = time.monotonic() - started
            alarm = None
            while alarm is None:
                event = await operator.next_event(30)
                if event["name"] == "team.unreachable":
                    alarm = event
            alarm_s = time.monotonic() - started
        assert alarm["data"]["team_id"] == silent["id"] and alarm["data"]["incident_id"] == iid
        assert alarm["data"]["numbers"] == [TEAM_NUMBER, SECOND_NUMBER]
        assert alarm["data"]["sms_sent_at"] is not None
        assert 1.4 <= sms_s < 3 + 2 and 3 <= alarm_s < 3 + 10
        # The alarm comes before the next team is sent; the silent team is unreachable.
        order = await db.fetch(
            """SELECT name, team_id FROM events WHERE incident_id = $1
                 AND name IN ('team.unreachable', 'assignment.created') ORDER BY seq""", iid)
        assert [(r["name"], r["team_id"]) for r in order] == [
            ("assignment.created", silent["id"]), ("team.unreachable", None),
            ("assignment.created", following["id"])]
        assert (await _team(api, "SILENT"))["status"] == "unreachable"
        # The silent team is told by SMS that the assignment is withdrawn.
        await wait_until(lambda: any(t.startswith(f"112 DITARIK #{code}")
                                     for t in gateway.texts(TEAM_NUMBER)),
                         what="the withdrawal SMS")
        # Its "1" arrives late: it is reachable again, the incident stays with NEXT.
        late = await reply(api, SECOND_NUMBER, f"1 {code}")
        assert late["outcome"] == "stale" and late["incident_id"] == iid
        detail = (await api.get(f"/api/v1/incidents/{iid}")).json()
        assert detail["assignment"]["team_id"] == following["id"]
        assert detail["status"] == "assigned"
        assert (await _team(api, "SILENT"))["status"] == "available"
        await wait_until(lambda: any("bukan tugas aktif" in t
                                     for t in gateway.texts(SECOND_NUMBER)),
                         what="the answer to the late reply")
        print(f"\nassignment SMS {sms_s:.2f} s after the POST, alarm {alarm_s:.2f} s; "
              f"texts to {SECOND_NUMBER}: {gateway.texts(SECOND_NUMBER)}")


async def test_unreachable_team_back_when_its_phone_connects(dsn: str) -> None:
    async with gateway_stand_in() as gateway, running_service(
            sms_settings(dsn, gateway.setting("jasmin"), ack_timeout_s=1)) as url, \
            Api(url, dsn) as api:
        await api.login_all()
        await sms_team(api, "HILLS", -4.0, 119.64, TEAM_NUMBER)
        token = await api.device_token("HILLS")
        incident = (await api.incident(-4.0, 119.64)).json()
        assert incident["assignment"] is not None
        await wait_until(lambda: _status_is(api, "HILLS", "unreachable"), what="unreachable")
        async with EventClient(ws_url(url), token):
            await wait_until(lambda: _status_is(api, "HILLS", "available"),
                             what="back when its phone connects")


async def _status_is(api: Api, code: str, status: str) -> bool:
    return (await _team(api, code))["status"] == status
