"""Two app instances on one database: exactly one probes the lines, and when it dies
or freezes the other takes over and still fails over a dead line in time.

Instance A runs as its own process (`dispatch112 serve`) so that it can really be
killed (SIGKILL: its database session ends with it) or frozen (SIGSTOP: its
session, and lock, stay until the other instance ends them). Instance B runs in the
test's process. The sipp peers log every OPTIONS they receive; the User-Agent of
each names the instance that sent it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import asyncpg
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


async def db_now(db: asyncpg.Connection) -> datetime:
    return await db.fetchval("SELECT now()")


async def election_rounds(db: asyncpg.Connection, instance_id: str, since: datetime,
                          rounds: int = 5) -> None:
    """Wait until the election session of `instance_id` (named after it) has tried to
    take the lead, and stood by, `rounds` times since `since` (the database's clock). A
    standby's try ends with a look at the leader's beat (SELECT ... FROM line_monitor);
    pg_stat_activity shows when its session's last statement started, and which it was.
    An instance that leads makes no such tries: then this times out."""
    looks: set = set()

    async def tried() -> bool:
        look = await db.fetchval(
            """SELECT query_start FROM pg_stat_activity
               WHERE datname = current_database() AND application_name LIKE '%:' || $1
                 AND query LIKE '%FROM line_monitor%'""", instance_id)
        if look is not None and look > since:
            looks.add(look)
        return len(looks) >= rounds
    await wait_until(tried, what=f"{rounds} tries to lead by {instance_id}, standing by")


def log_events(log: Path) -> list[str]:
    """The events of the structured lines in an instance's log, but a line still being
    written."""
    complete = log.read_text(errors="replace").split("\n")[:-1]
    return [json.loads(line)["event"] for line in complete if line.startswith("{")]


async def test_one_instance_probes_and_the_other_takes_over_when_it_is_killed(
        pair: tuple[Api, str, subprocess.Popen], tmp_path: Path,
        db: asyncpg.Connection) -> None:
    api, url_a, process_a = pair
    a, b = await monitor_of(api, url_a), await monitor_of(api, api.base_url)
    assert (a["leading"], b["leading"]) == (True, False)
    logs = tmp_path / "primary.log", tmp_path / "backup.log"
    async with SippPeer(message_log=logs[0]) as primary, \
            SippPeer(message_log=logs[1]) as backup:
        first = await create_line(api, sip_line("112", 0, primary.port))
        second = await create_line(api, sip_line("0421-21112", 1, backup.port))
        await wait_states(api, {first["id"]: "up", second["id"]: "up"})
        lines_up = await db_now(db)
        # A probes on, both peers hear it, and B, which tries to lead all along, stands by.
        only_a = {f"dispatch112 ({a['instance_id']})"}

        async def a_probed() -> bool:
            status = await monitor_of(api, url_a)
            return status["probes_sent"] >= 10 and all(agents_of(log) for log in logs)
        await wait_until(a_probed, what="10 probes of A, heard by both peers")
        await election_rounds(db, b["instance_id"], since=lines_up)
        a, b = await monitor_of(api, url_a), await monitor_of(api, api.base_url)
        assert a["leading"] and a["probes_sent"] >= 10
        assert not b["leading"] and b["probes_sent"] == 0
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
        pair: tuple[Api, str, subprocess.Popen], tmp_path: Path,
        db: asyncpg.Connection) -> None:
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
        # A wakes, finds its session ended and steps down (its probe loops stopped).
        log_a = tmp_path / "instance_a.log"
        await wait_until(lambda: "lines.stepping_down" in log_events(log_a),
                         what="A stepping down")
        stepped_down = await db_now(db)
        a_after = await monitor_of(api, url_a)
        assert a_after["instance_id"] == a["instance_id"] and a_after["leading"] is False
        # A stands by: after it has tried to lead again a few times, and B has probed on,
        # A has sent no probe since, and B still leads.
        await election_rounds(db, a["instance_id"], since=stepped_down)
        await wait_until(lambda: _probes_beyond(api, api.base_url, b["probes_sent"] + 2),
                         what="B probing on")
        a_now = await monitor_of(api, url_a)
        assert (a_now["leading"], a_now["probes_sent"]) == (False, a_after["probes_sent"])
        assert log_events(log_a).count("lines.leading") == 1
        b_after = await monitor_of(api, api.base_url)
        assert b_after["leading"] and b_after["leader"]["instance_id"] == b["instance_id"]


async def _probes_beyond(api: Api, url: str, count: int) -> bool:
    return (await monitor_of(api, url))["probes_sent"] >= count
