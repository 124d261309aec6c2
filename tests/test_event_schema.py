"""Every event is declared once (dispatch/events/catalogue.py), with its payload.

Every test's database is checked against the catalogue when the test ends
(tests/conftest.py); this module makes sure every declared event is emitted by a
real flow, that the checker can fail, and that docs/api.md lists the catalogue.
"""

import asyncio
import contextlib
from datetime import UTC, datetime

import asyncpg
import pydantic
import pytest

from dispatch.events import docs
from dispatch.events.catalogue import EVENTS, check_event
from tests.calls_support import login_gateway
from tests.lines_support import create_line, wait_until
from tests.support import CITY, Api, check_logged_events


@pytest.mark.settings(sms_inbound_key="event-key", ack_timeout_s=2, aml_enabled=True)
async def test_a_flow_emits_every_declared_event_as_declared(
        api: Api, db: asyncpg.Connection, dsn: str) -> None:
    await login_gateway(api, db)
    team = await api.team("EV1", CITY[0], CITY[1])
    await api.device_token("EV1")
    line = await create_line(api, {"number": "0421-21112", "label": "Gateway", "priority": 0,
                                   "probe": {"kind": "heartbeat", "timeout_s": 2.0}})
    # The gateway keeps the line up until the silence below (a line that has not been
    # heard from for timeout_s is down, and drops its calls: with no heartbeats, a slow
    # machine lost the open call before its caller's position came).
    beating = asyncio.create_task(_heartbeats(api, line["id"]))
    taken = (await api.post("/api/v1/calls", {"caller_number": "081234567890"})).json()
    waiting = (await api.post("/api/v1/calls", {"caller_number": "081298765432",
                                                "line_id": line["id"]}, role="gateway")).json()
    assert (await api.post(f"/api/v1/calls/{waiting['id']}/take")).status_code == 200
    incident = (await api.incident(call_id=taken["id"])).json()
    assert incident["assignment"]["team_id"] == team["id"]
    assert (await api.post(f"/api/v1/calls/{taken['id']}/end",
                           {"disposition": "incident", "incident_id": incident["id"]})
            ).status_code == 200
    assert (await api.step("EV1", "acknowledge", incident["id"])).status_code == 200
    # The caller's handset sends its position while the second call is open.
    head = (f'A"ML=1;lt=-4.0105;lg=+119.6262;rd=20;top={datetime.now(UTC):%Y%m%d%H%M%S};'
            "lc=68;pm=G;ml=")
    aml = await api.post("/api/v1/aml/sms", {"from": "081298765432",
                                             "text": head + str(len(head) + 2)}, role="gateway")
    assert aml.status_code == 202 and aml.json()["call_id"] == waiting["id"], aml.text
    # A prank number blocked, then lifted.
    assert (await api.post("/api/v1/blocklist", {"number": "085299998888", "reason": "iseng"},
                           role="admin")).status_code == 201
    assert (await api.call("DELETE", "/api/v1/blocklist/085299998888", role="admin")
            ).status_code == 204
    assert (await api.post("/api/v1/team/location", {"lat": CITY[0], "lon": CITY[1],
                                                     "accuracy_m": 12.0},
                           role="team:EV1")).status_code == 204
    assert (await api.post(f"/api/v1/incidents/{incident['id']}/cancel",
                           {"reason": "caller recovered"})).status_code == 200
    # Silence on the line after a heartbeat: it goes down and drops the open call.
    beating.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await beating
    assert (await api.post(f"/api/v1/lines/{line['id']}/heartbeat")).status_code == 204

    async def callback() -> dict | None:
        items = (await api.get("/api/v1/callbacks")).json()["items"]
        return next((c for c in items if c["call_id"] == waiting["id"]), None)
    dropped = await wait_until(callback, 30, "callback for the dropped call")
    assert (await api.post(f"/api/v1/callbacks/{dropped['id']}/done")).status_code == 200
    # Nobody answers the next assignment: the alarm; an SMS from a stranger is shown.
    silent = (await api.incident()).json()
    assert silent["assignment"]["team_id"] == team["id"]
    await wait_until(lambda: db.fetchval(
        "SELECT count(*) FROM events WHERE name = 'team.unreachable'"), 30, "the alarm")
    assert (await api.get("/api/v1/sms/inbound", role=None, params={
        "from": "+6281100000000", "text": "1", "key": "event-key"})).status_code == 200

    names = {row["name"] for row in await db.fetch("SELECT DISTINCT name FROM events")}
    assert names == set(EVENTS)
    assert await check_logged_events(dsn) > len(EVENTS)


async def _heartbeats(api: Api, line_id: int) -> None:
    """What the gateway does: a heartbeat every 0.25 s."""
    while True:
        assert (await api.post(f"/api/v1/lines/{line_id}/heartbeat")).status_code == 204
        await asyncio.sleep(0.25)


def test_the_checker_refuses_a_payload_that_drifted() -> None:
    team = {"id": 1, "code": "A", "name": "Tim A", "kind": "bls", "status": "available",
            "on_duty": True, "base_name": "", "base": {"lat": -4.0, "lon": 119.6},
            "phone": None, "status_changed_at": "2026-11-29T10:00:00Z",
            "position": {"lat": -4.0, "lon": 119.6, "at": None, "source": "base"},
            "last_fix_at": None, "device_seen_at": None, "signal": "ok"}
    assert check_event("team.updated", team).code == "A"
    with pytest.raises(pydantic.ValidationError):  # a field the declaration does not have
        check_event("team.updated", {**team, "colour": "red"})
    with pytest.raises(pydantic.ValidationError):  # a field missing
        check_event("team.updated", {k: v for k, v in team.items() if k != "status"})
    with pytest.raises(pydantic.ValidationError):  # a state outside the vocabulary
        check_event("team.updated", {**team, "status": "asleep"})
    with pytest.raises(KeyError):
        check_event("team.renamed", team)


def test_api_document_lists_the_catalogue() -> None:
    """docs/api.md's events section is what `python -m dispatch.events.docs` writes."""
    current = docs.API_DOC.read_text()
    assert docs.rewrite(current) == current, "run: python -m dispatch.events.docs"
    for name in EVENTS:
        assert f"#### `{name}`" in current
