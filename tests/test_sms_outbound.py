"""Issue 13, tests 1 and 3: an assignment goes by SMS when the team's phone has no
live socket (and not while it has one), through Kannel's, Jasmin's and playSMS's HTTP
APIs (delivery reports back by webhook), in
the documented length with the incident's short code; a gateway that is down keeps
messages in the outbox, which go out once and in order when it is back, across a
restart of the service."""

from __future__ import annotations

import time

import asyncpg
import pytest

from dispatch.sms.texts import ASSIGNMENT_MAX, get_short_code
from realtime.client import EventClient
from tests.sms_support import (
    INBOUND_KEY,
    SECOND_NUMBER,
    TEAM_NUMBER,
    gateway_stand_in,
    sms_settings,
    sms_team,
)
from tests.support import Api, running_service, wait_until, ws_url


@pytest.mark.parametrize("kind", ["kannel", "jasmin", "playsms"])
async def test_assignment_sms_only_without_a_live_socket(dsn: str, db: asyncpg.Connection,
                                                         kind: str) -> None:
    async with gateway_stand_in() as gateway, running_service(
            sms_settings(dsn, gateway.setting(kind))) as url, Api(url, dsn) as api:
        await api.login_all()
        online = await sms_team(api, "ONLINE", -4.0, 119.64, SECOND_NUMBER)
        token = await api.device_token("ONLINE")
        async with EventClient(ws_url(url), token):
            first = (await api.incident(-4.0, 119.64, priority=1)).json()
            assert first["assignment"]["team_id"] == online["id"]
            # The second team's phone has never connected: its assignment goes by SMS.
            offline = await sms_team(api, "OFFLINE", -4.02, 119.65, TEAM_NUMBER)
            started = time.monotonic()
            second = (await api.incident(-4.02, 119.65, priority=1,
                                         complaint="sesak napas, bibir membiru",
                                         address="Jl. Jend. Sudirman 12 (dekat Masjid "
                                                 "Raya)")).json()
            assert second["assignment"]["team_id"] == offline["id"]
            await wait_until(lambda: gateway.texts(TEAM_NUMBER), what="the assignment SMS")
            took_s = time.monotonic() - started
        [text] = gateway.texts(TEAM_NUMBER)
        code = get_short_code(second["id"])
        assert len(text) <= ASSIGNMENT_MAX and text.isascii()
        assert f"#{code}" in text and f"1 {code}" in text
        assert "P1 MERAH" in text and "sesak napas" in text and "Masjid Raya" in text
        assert "maps.google.com/?q=-4.02000,119.65000" in text
        sent = gateway.received[0]
        assert sent.kind == kind
        assert sent.to == (TEAM_NUMBER.lstrip("+") if kind == "jasmin" else TEAM_NUMBER)
        # The online team's assignment was older, so the sweep that queued the offline
        # team's SMS had it before it: it queued nothing for the phone with a socket.
        assert gateway.texts(SECOND_NUMBER) == []
        assert await db.fetchval(
            "SELECT count(*) FROM sms_messages WHERE team_id = $1", online["id"]) == 0
        assert took_s < 10
        async def teams() -> dict:
            items = (await api.get("/api/v1/teams")).json()["items"]
            return {t["code"]: t for t in items}
        board = await wait_until(lambda: _reached(teams), what="OFFLINE reached by SMS")
        assert board["OFFLINE"]["reached_at"] and board["ONLINE"]["reached_via"] is None
        # Jasmin and playSMS name the message: their delivery report finds it.
        gateway_id = await db.fetchval("SELECT gateway_id FROM sms_messages")
        assert (gateway_id is None) == (kind == "kannel")
        if gateway_id is not None:
            report = await api.post(f"/api/v1/sms/status?key={INBOUND_KEY}", role=None,
                                    data={"id": gateway_id, "message_status": "DELIVRD"})
            assert report.json() == {"known": True}
            [message] = (await api.get(f"/api/v1/sms/messages?team_id={offline['id']}")
                         ).json()["items"]
            assert message["delivered_at"] and message["delivery_status"] == "DELIVRD"
        print(f"\n{kind}: assignment SMS at the gateway {took_s:.2f} s after the POST; "
              f"{len(text)} characters:\n{text}")


async def _reached(teams) -> dict | None:
    board = await teams()
    return board if board["OFFLINE"]["reached_via"] == "sms" else None


async def test_gateway_down_then_back_across_a_restart(dsn: str,
                                                       db: asyncpg.Connection) -> None:
    async with gateway_stand_in() as gateway:
        gateway.down = True
        settings = sms_settings(dsn, gateway.setting("kannel"))
        async with running_service(settings) as url, Api(url, dsn) as api:
            await api.login_all()
            team = await sms_team(api, "FAR", -4.0, 119.64, TEAM_NUMBER)
            incident = (await api.incident(-4.0, 119.64)).json()
            assert incident["assignment"]["team_id"] == team["id"]
            # Cancelled while the gateway is down: the cancellation queues behind it.
            await wait_until(lambda: gateway.refused >= 2, what="refused attempts")
            cancel = await api.post(f"/api/v1/incidents/{incident['id']}/cancel",
                                    {"reason": "penelepon membatalkan"})
            assert cancel.status_code == 200
            await wait_until(lambda: gateway.refused >= 4, what="more refused attempts")
        assert gateway.received == []
        waiting = await db.fetch("SELECT kind, attempts FROM sms_messages ORDER BY id")
        assert [row["kind"] for row in waiting] == ["assignment", "cancellation"]
        assert waiting[0]["attempts"] >= 2
        gateway.down = False
        async with running_service(settings) as url, Api(url, dsn) as api:
            await api.login_all()
            await wait_until(lambda: len(gateway.received) >= 2, what="both SMS")
            # Once each: nothing more comes while the worker keeps polling.
            await wait_until(lambda: db.fetchval(
                "SELECT count(*) = 2 FROM sms_messages WHERE sent_at IS NOT NULL"),
                what="both marked sent")
            messages = (await api.get(f"/api/v1/sms/messages?incident_id={incident['id']}"))
            assert messages.status_code == 200
        texts = gateway.texts(TEAM_NUMBER)
        code = get_short_code(incident["id"])
        assert len(texts) == 2
        assert texts[0].startswith(f"112 TUGAS #{code}") and texts[1].startswith(
            f"112 BATAL #{code}")
        print(f"\nafter the gateway came back: {texts}")
