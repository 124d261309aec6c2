"""A team that becomes free in any way takes the oldest, most urgent waiting incident
at once, not at the next sweep: the sweeper is off in these tests (an hour apart), so
only the change itself can serve the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from realtime.client import EventClient
from tests.sms_support import TEAM_NUMBER, gateway_stand_in, reply, sms_settings, sms_team
from tests.support import Api, running_service, ws_url

pytestmark = pytest.mark.settings(sweep_interval_s=3600)
SCENE = (-4.0, 119.64)


async def _served_by(api: Api, incident_id: int) -> int | None:
    body = (await api.get(f"/api/v1/incidents/{incident_id}")).json()
    assert body["status"] in ("queued", "assigned"), body
    return body["assignment"]["team_id"] if body["assignment"] else None


async def test_a_team_back_in_service_takes_the_waiting_incident(api: Api) -> None:
    team = await api.team("KEMBALI", *SCENE)
    out = await api.post(f"/api/v1/teams/{team['id']}/service", {"status": "out_of_service"})
    assert out.status_code == 200, out.text
    waiting = (await api.incident(*SCENE, priority=1)).json()
    assert waiting["status"] == "queued"
    back = await api.post(f"/api/v1/teams/{team['id']}/service", {"status": "available"})
    assert back.status_code == 200, back.text
    assert await _served_by(api, waiting["id"]) == team["id"]


async def test_a_shift_starting_now_puts_the_team_to_work(api: Api) -> None:
    team = await api.team("PAGI", *SCENE, on_duty=False)
    waiting = (await api.incident(*SCENE, priority=1)).json()
    assert waiting["status"] == "queued"
    now = datetime.now(UTC)
    shift = await api.post(f"/api/v1/teams/{team['id']}/shifts", {
        "starts_at": (now - timedelta(minutes=1)).isoformat(),
        "ends_at": (now + timedelta(hours=8)).isoformat()})
    assert shift.status_code == 201, shift.text
    assert await _served_by(api, waiting["id"]) == team["id"]


async def test_an_unreachable_team_whose_phone_connects_takes_the_waiting_incident(
        api: Api, db: asyncpg.Connection) -> None:
    team = await api.team("SUNYI", *SCENE)
    token = await api.device_token("SUNYI")
    # As an unanswered assignment leaves it (test_ack_timeout.py walks that path).
    await db.execute("UPDATE teams SET status = 'unreachable' WHERE id = $1", team["id"])
    waiting = (await api.incident(*SCENE, priority=1)).json()
    assert waiting["status"] == "queued"
    # The phone's page resumes from the last event it saw: what the connection set off
    # reaches it even if it was committed before the socket's welcome.
    seen = await db.fetchval("SELECT max(seq) FROM events")
    async with EventClient(ws_url(api.base_url), token, last_seq=seen,
                           names=["assignment.created"]) as phone:
        card = await phone.next_event(timeout=30)
    assert card["data"]["incident_id"] == waiting["id"]
    assert await _served_by(api, waiting["id"]) == team["id"]
    mine = await api.get("/api/v1/team/assignment", role="team:SUNYI")
    assert mine.json()["assignment"]["incident"]["id"] == waiting["id"]


async def test_a_team_clearing_by_sms_takes_the_waiting_incident(dsn: str) -> None:
    async with gateway_stand_in() as gateway, running_service(
            sms_settings(dsn, gateway.setting("kannel"), sweep_interval_s=3600)) as url, \
            Api(url, dsn) as api:
        await api.login_all()
        team = await sms_team(api, "PESISIR", *SCENE, TEAM_NUMBER)
        busy = (await api.incident(*SCENE, priority=2)).json()
        assert busy["assignment"]["team_id"] == team["id"]
        waiting = (await api.incident(*SCENE, priority=1)).json()
        assert waiting["status"] == "queued"
        for text in ("1", "3", "9"):
            assert (await reply(api, TEAM_NUMBER, text))["outcome"] == "applied"
        assert await _served_by(api, waiting["id"]) == team["id"]
