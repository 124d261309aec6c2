"""The telephony gateway (contract v1.1, role `gateway`): a user of its own with a
long-lived token from the command line, allowed to open and end calls and send line
heartbeats and nothing else (tests/matrix/test_roles.py calls every endpoint with
it), whose socket sees no events and who has no pages."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from dispatch import cli
from dispatch.auth.service import digest
from tests.support import Api, FeedClient, assert_quiet, logged, ws_url

GATEWAY, PASSWORD = "gw-telkom", "gateway-secret-1"


async def _run(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = await asyncio.to_thread(cli.main, argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
async def gateway_token(dsn: str, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture) -> str:
    """A gateway user made with `user create --role gateway`, its token with
    `token create --ttl-days 30`."""
    monkeypatch.setenv("DATABASE_URL", dsn)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    code, out, err = await _run(["user", "create", GATEWAY, "--role", "gateway",
                                 "--password-stdin"], capsys)
    assert code == 0, err
    code, out, err = await _run(["token", "create", GATEWAY, "--ttl-days", "30"], capsys)
    assert code == 0, err
    assert "only this once" in err
    return out.strip()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _heartbeat_line(api: Api) -> int:
    line = await api.post("/api/v1/lines", {
        "number": "0421112", "label": "gateway", "priority": 0,
        "probe": {"kind": "heartbeat", "timeout_s": 3600.0}}, role="admin")
    assert line.status_code == 201, line.text
    return line.json()["id"]


async def test_token_is_long_lived_and_stored_as_its_digest(
        gateway_token: str, db: asyncpg.Connection) -> None:
    row = await db.fetchrow("SELECT t.role, t.expires_at, t.token_hash FROM tokens t"
                            " JOIN users u ON u.id = t.user_id WHERE u.username = $1", GATEWAY)
    assert row["role"] == "gateway"
    assert row["token_hash"] == digest(gateway_token)
    assert abs(row["expires_at"] - (datetime.now(UTC) + timedelta(days=30))) < \
        timedelta(minutes=5)
    assert await db.fetchval("SELECT count(*) FROM tokens WHERE token_hash = $1",
                             gateway_token.encode()) == 0


async def test_gateway_opens_and_ends_calls_and_beats_and_nothing_else(
        api: Api, gateway_token: str) -> None:
    line = await _heartbeat_line(api)
    headers = _bearer(gateway_token)
    beat = await api.http.post(f"/api/v1/lines/{line}/heartbeat", headers=headers)
    assert beat.status_code == 204, beat.text
    call = await api.http.post("/api/v1/calls", headers=headers,
                               json={"caller_number": "081234567890", "line_id": line})
    assert call.status_code == 201, call.text
    ended = await api.http.post(f"/api/v1/calls/{call.json()['id']}/end", headers=headers,
                                json={"disposition": "prank"})
    assert ended.status_code == 200, ended.text
    for path in ("/api/v1/teams", "/api/v1/incidents", "/api/v1/lines", "/api/v1/callbacks",
                 "/api/v1/reports/calls"):
        assert (await api.http.get(path, headers=headers)).status_code == 403, path


async def test_token_revoked_from_the_command_line_and_by_logout(
        api: Api, gateway_token: str, capsys: pytest.CaptureFixture) -> None:
    line = await _heartbeat_line(api)
    beat = f"/api/v1/lines/{line}/heartbeat"
    code, out, _ = await _run(["token", "revoke", GATEWAY], capsys)
    assert code == 0 and "revoked 1 token" in out
    assert (await api.http.post(beat, headers=_bearer(gateway_token))).status_code == 401

    code, again, _ = await _run(["token", "create", GATEWAY], capsys)
    assert code == 0
    token = again.strip()
    assert (await api.http.post(beat, headers=_bearer(token))).status_code == 204
    assert (await api.http.post("/api/v1/auth/logout", headers=_bearer(token))).status_code \
        == 204
    assert (await api.http.post(beat, headers=_bearer(token))).status_code == 401


async def test_long_lived_tokens_only_for_gateway_users(
        dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("DATABASE_URL", dsn)
    code, _, err = await _run(["token", "create", "operator"], capsys)
    assert code == 2 and "only for gateway users" in err
    code, _, err = await _run(["token", "create", "nobody"], capsys)
    assert code == 2 and "no user nobody" in err
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["token", "create", GATEWAY, "--ttl-days", "0"])


@pytest.mark.settings(ws_heartbeat_s=0.1)
async def test_gateway_socket_sees_no_events(api: Api, gateway_token: str,
                                             db: asyncpg.Connection) -> None:
    async with FeedClient(ws_url(api.base_url), gateway_token) as gateway:
        start = gateway.last_seq
        assert (await api.incident()).status_code == 201
        assert (await api.post("/api/v1/calls", {"caller_number": "081234567890"})
                ).status_code == 201
        upto = (await logged(db, start))[-1]["seq"]
        await assert_quiet(gateway, upto)
        assert gateway.welcomes[0]["role"] == "gateway"


async def test_gateway_has_no_pages(api: Api, gateway_token: str) -> None:
    login = await api.http.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
    page = await api.http.post("/login", data={"username": GATEWAY, "password": PASSWORD,
                                               "csrf_token": csrf})
    assert page.status_code == 403
    assert "dispatch112_session" not in page.headers.get("set-cookie", "")
