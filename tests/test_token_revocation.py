"""Sockets whose token ended are closed (4401): logout, a PIN change, a team's phones
revoked, expiry; and a frame sent on such a socket changes nothing."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import asyncpg
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from dispatch.auth.service import digest
from dispatch.config import Settings
from tests.support import CITY, WAIT_S, Api, ws_url

CLOSE_UNAUTHORIZED = 4401


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, ws_token_check_s=0.2)


async def hello(ws: websockets.ClientConnection, token: str) -> None:
    await ws.send(json.dumps({"type": "hello", "token": token}))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
    assert welcome["type"] == "welcome", welcome


async def close_code(ws: websockets.ClientConnection) -> int:
    """Read until the server closes the socket (within WAIT_S); its close code."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), WAIT_S)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code


async def test_logout_closes_the_socket(api: Api) -> None:
    await api.team("NEAR", *CITY)
    token = await api.device_token("NEAR")
    other = await api.device_token("NEAR")  # the team's second phone stays connected
    async with websockets.connect(ws_url(api.base_url)) as ws, \
            websockets.connect(ws_url(api.base_url)) as second:
        await hello(ws, token)
        await hello(second, other)
        response = await api.http.post("/api/v1/auth/logout",
                                       headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 204
        assert await close_code(ws) == CLOSE_UNAUTHORIZED
        await asyncio.sleep(0)
        await second.send(json.dumps({"type": "ack", "seq": 0}))
        assert second.close_code is None


async def test_pin_change_closes_the_team_sockets(api: Api) -> None:
    team = await api.team("NEAR", *CITY)
    token = await api.device_token("NEAR")
    async with websockets.connect(ws_url(api.base_url)) as ws:
        await hello(ws, token)
        response = await api.post(f"/api/v1/teams/{team['id']}/pin", {"pin": "987654"},
                                   role="admin")
        assert response.status_code == 204, response.text
        assert await close_code(ws) == CLOSE_UNAUTHORIZED
    old = await api.http.post("/api/v1/auth/device", json={"team_code": "NEAR",
                                                           "pin": "432100"})
    assert old.status_code == 401
    assert (await api.get("/api/v1/team/assignment", role=None, headers={
        "Authorization": f"Bearer {token}"})).status_code == 401
    await api.device_token("NEAR", pin="987654")


async def test_revoking_a_team_closes_its_sockets_only(api: Api) -> None:
    team = await api.team("NEAR", *CITY)
    await api.team("FAR", *CITY)
    near, far = await api.device_token("NEAR"), await api.device_token("FAR")
    async with websockets.connect(ws_url(api.base_url)) as ws, \
            websockets.connect(ws_url(api.base_url)) as other:
        await hello(ws, near)
        await hello(other, far)
        assert (await api.post(f"/api/v1/teams/{team['id']}/revoke", role="operator")
                ).status_code == 403
        response = await api.post(f"/api/v1/teams/{team['id']}/revoke", role="admin")
        assert response.status_code == 204, response.text
        assert await close_code(ws) == CLOSE_UNAUTHORIZED
        assert (await api.get("/api/v1/team/assignment", role="team:FAR")).status_code == 200
        assert other.close_code is None


@pytest.mark.settings(device_token_ttl_s=2)
async def test_expiry_closes_the_socket(api: Api) -> None:
    await api.team("NEAR", *CITY)
    token = await api.device_token("NEAR")
    async with websockets.connect(ws_url(api.base_url)) as ws:
        await hello(ws, token)
        assert await close_code(ws) == CLOSE_UNAUTHORIZED


@pytest.mark.settings(ws_token_check_s=3600)
async def test_frame_on_a_revoked_socket_is_not_applied(api: Api,
                                                        db: asyncpg.Connection) -> None:
    """Between two periodic checks: the frame itself re-checks the token."""
    team = await api.team("NEAR", *CITY)
    token = await api.device_token("NEAR")
    incident = (await api.incident(*CITY)).json()
    assert incident["assignment"]["team_id"] == team["id"]
    async with websockets.connect(ws_url(api.base_url)) as ws:
        await hello(ws, token)
        await db.execute("UPDATE tokens SET revoked_at = now() WHERE token_hash = $1",
                         digest(token))
        before = await db.fetchval("SELECT max(seq) FROM events")
        await ws.send(json.dumps({"type": "status", "action": "acknowledge",
                                  "incident_id": incident["id"], "client_id": "ack-1"}))
        await ws.send(json.dumps({"type": "location", "lat": -4.01, "lon": 119.63}))
        assert await close_code(ws) == CLOSE_UNAUTHORIZED
    assert await db.fetchval("SELECT max(seq) FROM events") == before
    row = await db.fetchrow("SELECT status, fix_at FROM teams WHERE id = $1", team["id"])
    assert row["status"] == "dispatched" and row["fix_at"] is None


@pytest.mark.settings(ws_token_check_s=3600)
async def test_a_fix_alone_on_a_revoked_socket_is_not_stored(api: Api,
                                                             db: asyncpg.Connection) -> None:
    """A GPS fix is stored by one statement that checks the token itself. (This test
    also found a socket that never closed: its sender swallowed the cancellation when
    the refusal's answer was being sent at that moment.)"""
    team = await api.team("NEAR", *CITY)
    token = await api.device_token("NEAR")
    async with websockets.connect(ws_url(api.base_url)) as ws:
        await hello(ws, token)
        await db.execute("UPDATE tokens SET revoked_at = now() WHERE token_hash = $1",
                         digest(token))
        await ws.send(json.dumps({"type": "location", "lat": -4.01, "lon": 119.63}))
        assert await close_code(ws) == CLOSE_UNAUTHORIZED
    assert await db.fetchval("SELECT fix_at FROM teams WHERE id = $1", team["id"]) is None
