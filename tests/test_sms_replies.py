"""Issue 13, test 2: replies by SMS move the incident exactly as the phone's buttons
would (through the same service function, logged `via: sms`); repeats, digits out of
order, late replies, a stranger's number and garbage are handled as docs/sms.md says;
the webhook takes its key or a gateway token and refuses bad input with 4xx."""

from __future__ import annotations

import asyncpg

from db import users as users_db
from dispatch.auth.service import hash_secret
from dispatch.sms.texts import get_short_code
from tests.sms_support import (
    INBOUND_KEY,
    TEAM_NUMBER,
    gateway_stand_in,
    reply,
    sms_settings,
    sms_team,
)
from tests.support import Api, running_service, wait_until

LOCAL_NUMBER = "0812-3450-0001"  # TEAM_NUMBER as an Indonesian phone writes it
STRANGER = "+6285299990000"


async def _status(api: Api, incident_id: int) -> str:
    return (await api.get(f"/api/v1/incidents/{incident_id}")).json()["status"]


async def _steps(api: Api, incident_id: int) -> list[tuple[str, str | None]]:
    """(action, via) of each team step in the incident's timeline, in order."""
    detail = (await api.get(f"/api/v1/incidents/{incident_id}")).json()
    return [(e["data"]["action"], e["data"].get("via")) for e in detail["events"]
            if e["name"] == "incident.updated" and e["data"].get("action")]


async def test_replies_move_the_incident_like_the_buttons(dsn: str,
                                                          db: asyncpg.Connection) -> None:
    async with gateway_stand_in() as gateway, running_service(
            sms_settings(dsn, gateway.setting("kannel"))) as url, Api(url, dsn) as api:
        await api.login_all()
        team = await sms_team(api, "PESISIR", -4.0, 119.64, TEAM_NUMBER)
        incident = (await api.incident(-4.0, 119.64, priority=1)).json()
        iid, code = incident["id"], get_short_code(incident["id"])
        await wait_until(lambda: gateway.texts(TEAM_NUMBER), what="the assignment SMS")

        first = await reply(api, LOCAL_NUMBER, "1")
        assert (first["outcome"], first["steps"]) == ("applied", ["acknowledge"])
        assert await _status(api, iid) == "acknowledged"
        again = await reply(api, TEAM_NUMBER, "1")  # the team sent it twice
        assert again["outcome"] == "duplicate" and await _status(api, iid) == "acknowledged"
        # "3" overtakes "2" on the way: both happen, in order; the late "2" changes nothing.
        ahead = await reply(api, TEAM_NUMBER, f"3 {code.lower()}")
        assert (ahead["outcome"], ahead["steps"]) == ("applied", ["en_route", "on_scene"])
        late = await reply(api, TEAM_NUMBER, "2")
        assert late["outcome"] == "duplicate" and await _status(api, iid) == "on_scene"
        # A stranger, garbage and another incident's code change nothing.
        stranger = await reply(api, STRANGER, "9")
        garbage = await reply(api, TEAM_NUMBER, "siap meluncur")
        other = await reply(api, TEAM_NUMBER, f"4 {get_short_code(iid + 7)}")
        assert (stranger["outcome"], garbage["outcome"], other["outcome"]) == (
            "unknown_sender", "not_understood", "stale")
        assert await _status(api, iid) == "on_scene"
        # The gateway delivering one message twice (same id): taken once.
        for _ in range(2):
            step = await reply(api, TEAM_NUMBER, f"4{code}", id="kannel-77")
        assert step["outcome"] == "duplicate" and step["inbound_id"] is None
        assert await _status(api, iid) == "transporting"
        assert (await reply(api, TEAM_NUMBER, "5"))["outcome"] == "applied"
        assert (await reply(api, TEAM_NUMBER, "9"))["outcome"] == "applied"
        after = await reply(api, TEAM_NUMBER, f"9 {code}")  # a late repeat of "selesai"
        assert after["outcome"] == "duplicate"
        assert await _status(api, iid) == "closed"

        assert await _steps(api, iid) == [(action, "sms") for action in (
            "acknowledge", "en_route", "on_scene", "transporting", "at_hospital", "clear")]
        teams = {t["code"]: t for t in (await api.get("/api/v1/teams")).json()["items"]}
        assert teams["PESISIR"]["status"] == "available"

        # The same steps by the phone's buttons leave the same timeline, `via: app`.
        await api.device_token("PESISIR")
        buttons = (await api.incident(-4.0, 119.64)).json()
        assert buttons["assignment"]["team_id"] == team["id"]
        for action in ("acknowledge", "en_route", "on_scene", "transporting",
                       "at_hospital", "clear"):
            assert (await api.step("PESISIR", action, buttons["id"])).status_code == 200
        assert [a for a, _ in await _steps(api, buttons["id"])] == [
            a for a, _ in await _steps(api, iid)]
        assert {via for _, via in await _steps(api, buttons["id"])} == {"app"}

        # The health office's count: one assignment reached and acknowledged by SMS.
        counts = (await api.get("/api/v1/reports/sms", role="health_office")).json()
        assert (counts["assignments"], counts["acknowledged_by_sms"],
                counts["acknowledged_by_app"]) == (2, 1, 1)
        assert counts["sms_sent"] >= 1 and counts["sms_ack_p50_s"] > 0
        assert (await api.get("/api/v1/reports/sms?from=2026-02-30",
                              role="health_office")).status_code == 422

        # Every step confirmed, the help text for garbage, nothing to the stranger.
        def answered() -> list[str]:
            return [t for t in gateway.texts(TEAM_NUMBER) if not t.startswith("112 TUGAS")]
        await wait_until(lambda: len(answered()) >= 10, what="the answers")
        texts = answered()
        assert f"112 OK #{code}: TERIMA tercatat." in texts
        assert f"112 OK #{code}: TIBA tercatat." in texts
        assert any(t.startswith("112: balasan tidak dimengerti") for t in texts)
        assert all(len(t) <= 160 for t in texts)
        assert gateway.texts(STRANGER) == []
        # The operator sees every SMS received, with what it came to.
        log = (await api.get("/api/v1/sms/replies")).json()["items"]
        assert {"unknown_sender", "not_understood", "stale", "duplicate", "applied"} <= {
            r["outcome"] for r in log}
        seen = await db.fetch("SELECT data FROM events WHERE name = 'sms.received'")
        assert any(row["data"]["outcome"] == "not_understood"
                   and row["data"]["text"] == "siap meluncur" for row in seen)
        print("\nanswers sent:\n" + "\n".join(texts))


async def test_inbound_webhook_auth_and_bad_input(dsn: str, db: asyncpg.Connection) -> None:
    await users_db.upsert_user(db, "gw-sms", await hash_secret("gateway-secret-1"), "gateway")
    async with gateway_stand_in() as gateway, running_service(
            sms_settings(dsn, gateway.setting("jasmin"))) as url, Api(url, dsn) as api:
        await api.login_all()
        token = (await api.http.post("/api/v1/auth/token", json={
            "username": "gw-sms", "password": "gateway-secret-1"})).json()["access_token"]
        path = "/api/v1/sms/inbound"
        params = {"from": STRANGER, "text": "1"}
        assert (await api.get(path, role=None, params=params)).status_code == 401
        wrong = await api.get(path, role=None, params={**params, "key": "nope"})
        assert wrong.status_code == 401
        assert wrong.headers["content-type"] == "application/problem+json"
        assert (await api.get(path, role="admin", params=params)).status_code == 403
        # Jasmin posts its MO messages as a form: from, to, content, id.
        form = await api.http.post(path, data={"from": STRANGER, "content": "1", "id": "j-1"},
                                   headers={"Authorization": f"Bearer {token}"})
        assert form.status_code == 200 and form.json()["outcome"] == "unknown_sender"
        for bad in ({"text": "1"}, {"from": STRANGER}, {"from": STRANGER, "text": "x" * 2000},
                    {"from": "", "text": "1"}):
            answer = await api.get(path, role=None, params={**bad, "key": INBOUND_KEY})
            assert answer.status_code == 422, (bad, answer.text)
        junk = await api.http.post(f"{path}?key={INBOUND_KEY}", content=b"{not json",
                                   headers={"Content-Type": "application/json"})
        assert junk.status_code == 400
        report = await api.get("/api/v1/sms/status", role=None,
                               params={"id": "unknown-id", "status": "DELIVRD",
                                       "key": INBOUND_KEY})
        assert report.status_code == 200 and report.json() == {"known": False}
        assert await db.fetchval("SELECT count(*) FROM sms_inbound") == 1
