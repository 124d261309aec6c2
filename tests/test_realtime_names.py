"""A client may name the events it wants in its hello (`events`): it gets those of the
events it may see, live and when resuming, and nothing else. The team's page asks for
what its card shows, so a phone is not sent back its own position every time it sends
one; a name that is not an event is refused, not silently never sent."""

from __future__ import annotations

import json

import asyncpg
import pytest
import websockets

from realtime.client import EventClient
from realtime.frames import CLOSE_UNAUTHORIZED
from tests.support import CITY, WAIT_S, Api, wait_until, ws_url
from tests.test_realtime import close_code

PAGE = ["assignment.created", "assignment.withdrawn", "incident.updated"]


async def _until(client: EventClient, seq: int) -> list[dict]:
    """The client's events up to the log's `seq` (a heartbeat-free wait: the last
    event the client may see is at `seq`)."""
    frames: list[dict] = []
    while not frames or frames[-1]["seq"] < seq:
        frames.append(await client.next_event(WAIT_S))
    return frames


async def _last_team_seq(db: asyncpg.Connection, team_id: int, names: list[str]) -> int:
    return await db.fetchval("SELECT max(seq) FROM events WHERE team_id = $1 "
                             "AND name = ANY($2)", team_id, names)


async def test_a_phone_asking_for_its_page_events_gets_those_and_not_its_own_positions(
        api: Api, db: asyncpg.Connection) -> None:
    team = await api.team("NM", *CITY)
    token = await api.device_token("NM")
    url = ws_url(api.base_url)
    async with EventClient(url, token) as everything, \
            EventClient(url, token, names=PAGE) as page:
        fix = await api.post("/api/v1/team/location", {"lat": CITY[0], "lon": CITY[1]},
                             role="team:NM")
        assert fix.status_code == 204

        async def announced() -> bool:
            return await db.fetchval("SELECT count(*) FROM events WHERE team_id = $1 AND "
                                     "name = 'team.updated' AND data ? 'accuracy_m'",
                                     team["id"]) > 0
        await wait_until(announced, what="the fix announced")
        incident = await api.incident(*CITY)
        assert incident.json()["assignment"]["team_id"] == team["id"]
        last = await _last_team_seq(db, team["id"], PAGE)
        seen_all = await _until(everything, last)
        seen_page = await _until(page, last)
    assert "team.updated" in {f["name"] for f in seen_all}
    assert [f["seq"] for f in seen_page] == [f["seq"] for f in seen_all if f["name"] in PAGE]
    assert "assignment.created" in {f["name"] for f in seen_page}

    # Resuming from before it all: the replay is filtered the same way.
    first = seen_all[0]["seq"] - 1
    async with EventClient(url, token, names=PAGE, last_seq=first) as resumed:
        replayed = await _until(resumed, last)
    assert [f["seq"] for f in replayed] == [f["seq"] for f in seen_page]


@pytest.mark.parametrize("events", ["incident.created", ["incident.created", "no.such"],
                                    [1], {"incident.created": True}])
async def test_a_hello_naming_what_is_not_an_event_is_refused(api: Api, events: object) -> None:
    async with websockets.connect(ws_url(api.base_url)) as ws:
        await ws.send(json.dumps({"type": "hello", "token": api.tokens["operator"],
                                  "last_seq": None, "events": events}))
        assert await close_code(ws) == CLOSE_UNAUTHORIZED


async def test_a_desk_asking_for_no_events_gets_only_answers(
        api: Api, db: asyncpg.Connection) -> None:
    await api.team("NE", *CITY)
    url = ws_url(api.base_url)
    async with EventClient(url, api.tokens["operator"], names=[]) as quiet, \
            EventClient(url, api.tokens["operator"]) as desk:
        await api.incident(*CITY)
        await _until(desk, await db.fetchval("SELECT max(seq) FROM events"))
        # Every event was offered to both sockets at once: an answer queued on the
        # quiet one now comes after any event it was going to get.
        await quiet.send({"type": "no-such-frame"})
        assert (await quiet.next_reply(WAIT_S))["type"] == "error"
        assert quiet.events.empty()
