"""Two app instances on one database: exactly one probes the lines, and when it dies
or freezes the other takes over and still fails over a dead line in time.

Instance A runs as its own process (`dispatch112 serve`) so that it can really be
killed (SIGKILL: its database session ends with it) or frozen (SIGSTOP: its
session, and lock, stay until the other instance ends them). Instance B runs in the
test's process. The sipp peers log every OPTIONS they receive; the User-Agent of
each names the instance that sent it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from dispatch.config import Settings
from realtime.client import EventClient
from tests.lines_support import (
    FAST,
    create_line,
    detection_bound_s,
    next_event,
    sip_line,
    wait_states,
    wait_until,
)
from tests.sip_peer import SippPeer, read_user_agents
from tests.support import Api, running_service, ws_url

POLL_S, STALE_S = 0.2, 1.0
# "Within a few probe intervals": the standby retries every poll.
TAKEOVER_S = 5 * POLL_S


@pytest.fixture
def settings(dsn: str) -> Settings:
    return Settings(database_url=dsn, secret_key="test", sweep_interval_s=0.2, pool_max=10,
                    line_poll_s=POLL_S, line_leader_stale_s=STALE_S)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def instance_a(dsn: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """Instance A in its own process; yields its URL and the process."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": dsn, "DISPATCH112_SECRET_KEY": "test",
           "DISPATCH112_LINE_POLL_S": str(POLL_S),
           "DISPATCH112_LINE_LEADER_STALE_S": str(STALE_S)}
    with open(tmp_path / "instance_a.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dispatch.cli", "serve", "--port", str(port)],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGCONT)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


async def monitor_of(api: Api, base_url: str) -> dict:
    response = await api.http.get(f"{base_url}/api/v1/lines/monitor",
                                  headers=api.auth("operator"), timeout=2)
    assert response.status_code == 200, response.text
    return response.json()


async def started_leading(api: Api, url: str) -> dict:
    """Wait for the instance at `url` to answer and to lead."""
    async def leading() -> dict | None:
        try:
            status = await monitor_of(api, url)
        except httpx.TransportError:
            return None
        return status if status["leading"] else None
    return await wait_until(leading, 20, f"{url} leading", poll_s=0.1)


@pytest.fixture
async def pair(settings: Settings, instance_a: tuple[str, subprocess.Popen], dsn: str
               ) -> AsyncIterator[tuple[Api, str, subprocess.Popen]]:
    """A leading (started first), then B: yields a client of B, A's URL and process."""
    url_a, process = instance_a
    async with Api(url_a, dsn) as probe_a:
        await wait_until(lambda: _healthy(probe_a), 20, "instance A up", poll_s=0.1)
        await probe_a.login_all()
        await started_leading(probe_a, url_a)
    async with running_service(settings) as url_b, Api(url_b, dsn) as api:
        await api.login_all()
        yield api, url_a, process


async def _healthy(api: Api) -> bool:
    try:
        return (await api.http.get("/api/v1/health", timeout=1)).status_code == 200
    except httpx.TransportError:
        return False


def agents_of(log: Path) -> set[str]:
    return {agent for agent in read_user_agents(log) if agent != "sipp-readiness"}


async def test_one_instance_probes_and_the_other_takes_over_when_it_is_killed(
        pair: tuple[Api, str, subprocess.Popen], tmp_path: Path) -> None:
    api, url_a, process_a = pair
    a, b = await monitor_of(api, url_a), await monitor_of(api, api.base_url)
    assert (a["leading"], b["leading"]) == (True, False)
    logs = tmp_path / "primary.log", tmp_path / "backup.log"
    async with SippPeer(message_log=logs[0]) as primary, \
            SippPeer(message_log=logs[1]) as backup:
        first = await create_line(api, sip_line("112", 0, primary.port))
        second = await create_line(api, sip_line("0421-21112", 1, backup.port))
        await wait_states(api, {first["id"]: "up", second["id"]: "up"})
        await asyncio.sleep(1.0)
        a, b = await monitor_of(api, url_a), await monitor_of(api, api.base_url)
        assert a["probes_sent"] >= 10 and b["probes_sent"] == 0
        only_a = {f"dispatch112 ({a['instance_id']})"}
        assert agents_of(logs[0]) == only_a and agents_of(logs[1]) == only_a

        killed = time.monotonic()
        os.killpg(process_a.pid, signal.SIGKILL)
        await started_leading(api, api.base_url)
        takeover = time.monotonic() - killed
        assert takeover <= TAKEOVER_S, f"takeover took {takeover:.2f} s"

        async with EventClient(ws_url(api.base_url), api.tokens["operator"]) as desk:
            died = time.monotonic()
            primary.kill()
            change = await next_event(desk, "line.state", detection_bound_s(FAST) + 2,
                                      lambda data: data["active_line_id"] == second["id"])
            detected = time.monotonic() - died
    assert detected <= detection_bound_s(FAST), f"failover took {detected:.2f} s"
    assert change["data"]["probed_by"] == b["instance_id"]
    assert f"dispatch112 ({b['instance_id']})" in agents_of(logs[1])


async def test_a_frozen_leader_is_ended_and_stays_out_when_it_wakes(
        pair: tuple[Api, str, subprocess.Popen], tmp_path: Path) -> None:
    api, url_a, process_a = pair
    a = await monitor_of(api, url_a)
    async with SippPeer() as peer:
        line = await create_line(api, sip_line("112", 0, peer.port))
        await wait_states(api, {line["id"]: "up"})
        frozen = time.monotonic()
        os.killpg(process_a.pid, signal.SIGSTOP)
        b = await started_leading(api, api.base_url)
        takeover = time.monotonic() - frozen
        # Not before A's beat went stale, and soon after.
        assert STALE_S - POLL_S <= takeover <= STALE_S + TAKEOVER_S + 1, takeover
        os.killpg(process_a.pid, signal.SIGCONT)
        await asyncio.sleep(1.0)  # A wakes, finds its session ended, stands by
        a_after = await monitor_of(api, url_a)
        assert a_after["instance_id"] == a["instance_id"] and a_after["leading"] is False
        await asyncio.sleep(0.6)
        assert (await monitor_of(api, url_a))["probes_sent"] == a_after["probes_sent"]
        b_after = await monitor_of(api, api.base_url)
        assert b_after["leading"] and b_after["probes_sent"] > b["probes_sent"]
        assert b_after["leader"]["instance_id"] == b["instance_id"]
