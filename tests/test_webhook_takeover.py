"""A leader that loses its lock in the middle of a batch of failover webhooks: the
receiver still gets every delivery, each exactly once, whoever ends up delivering.

Two instances run on one database, both configured with the same slow receiver (it
answers a second after reading each request, like a gateway busy sending the SMS).
While the leader's first batch is in flight, its lock-holding session is ended
(pg_terminate_backend, what a standby does to a frozen leader), or the leader, in a
process of its own, is frozen (SIGSTOP) until the other has taken over: it loses the
lead, the other instance takes over and delivers the rest.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx

from db import webhooks as webhooks_db
from dispatch.config import Settings
from dispatch.lines.leader import APP_NAME_PREFIX
from dispatch.lines.webhooks import BATCH
from tests.lines_support import WebhookReceiver
from tests.support import Api, running_service, wait_until

# More than one batch, so that some are still waiting when the lead is lost.
DELIVERIES = BATCH + 10
ANSWER_AFTER_S = 1.0


def _settings(dsn: str, receiver: WebhookReceiver) -> Settings:
    return Settings(database_url=dsn, secret_key="test", line_poll_s=0.2,
                    line_leader_stale_s=1.0, webhook_timeout_s=2.0, webhook_backoff_s=0.1,
                    failover_webhooks=(receiver.url("/sms"),))


async def _monitor(api: Api, base_url: str) -> dict:
    response = await api.http.get(f"{base_url}/api/v1/lines/monitor",
                                  headers=api.auth("operator"), timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


async def _leading(api: Api, base_url: str) -> dict | None:
    try:
        status = await _monitor(api, base_url)
    except httpx.TransportError:
        return None
    return status if status["leading"] else None


def _assert_each_once(receiver: WebhookReceiver, keys: set[str]) -> None:
    seen = Counter(item.headers["idempotency-key"] for item in receiver.at("/sms"))
    assert set(seen) == keys
    assert [key for key, count in seen.items() if count > 1] == []


async def _all_delivered(db: asyncpg.Connection) -> bool:
    return await db.fetchval("SELECT count(*) FROM webhook_deliveries"
                             " WHERE delivered_at IS NOT NULL") == DELIVERIES


async def _queue(db: asyncpg.Connection, url: str) -> set[str]:
    """Queue DELIVERIES notifications (as failovers would); their idempotency keys."""
    async with db.transaction():
        for number in range(DELIVERIES):
            await webhooks_db.insert_deliveries(db, [url], {"event": "line.failover",
                                                            "n": number})
    ids = await db.fetch("SELECT id FROM webhook_deliveries")
    return {f"dispatch112-{row['id']}" for row in ids}


async def test_a_leader_losing_its_lock_mid_batch_sends_each_webhook_once(
        dsn: str, db: asyncpg.Connection) -> None:
    async with WebhookReceiver(answer_after_s=ANSWER_AFTER_S) as receiver:
        settings = _settings(dsn, receiver)
        async with running_service(settings) as url_a, Api(url_a, dsn) as api:
            await api.login_all()
            a = await wait_until(lambda: _leading(api, url_a), what="A leading")
            async with running_service(settings) as url_b:
                keys = await _queue(db, receiver.url("/sms"))
                # A's first batch reaches the receiver, which holds its answers.
                await wait_until(lambda: len(receiver.at("/sms")) >= BATCH,
                                 what="A's first batch in flight")
                ended = await db.fetchval(
                    "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name = $1", APP_NAME_PREFIX + a["instance_id"])
                assert ended
                await wait_until(lambda: _all_delivered(db), what="every notification delivered")
                b = await wait_until(lambda: _leading(api, url_b), what="B leading")
    _assert_each_once(receiver, keys)
    assert b["instance_id"] != a["instance_id"]
    assert await db.fetchval("SELECT count(*) FROM webhook_deliveries"
                             " WHERE failed_at IS NOT NULL OR attempts <> 1") == 0



async def test_a_claim_takes_one_batch_and_the_next_claim_the_rest(
        db: asyncpg.Connection) -> None:
    keys = await _queue(db, "http://127.0.0.1:9/sms")
    first = await webhooks_db.claim_due(db, "a", 30, BATCH)
    rest = await webhooks_db.claim_due(db, "b", 30, BATCH)
    assert (len(first), len(rest)) == (BATCH, DELIVERIES - BATCH)
    assert {f"dispatch112-{row['id']}" for row in first + rest} == keys
    assert await webhooks_db.claim_due(db, "c", 30, BATCH) == []


async def test_a_claimed_delivery_waits_for_its_claim_and_a_late_failure_is_dropped(
        db: asyncpg.Connection) -> None:
    await webhooks_db.insert_deliveries(db, ["http://127.0.0.1:9/sms"], {"n": 1})
    [mine] = await webhooks_db.claim_due(db, "a", 0.3, BATCH)
    # While A's claim runs, B gets nothing; once it is over, B takes the delivery.
    assert await webhooks_db.claim_due(db, "b", 30, BATCH) == []
    [theirs] = await wait_until(lambda: webhooks_db.claim_due(db, "b", 30, BATCH),
                                what="A's claim over")
    assert (theirs["id"], theirs["attempts"]) == (mine["id"], 2)
    # A, held up, comes back with a failure: not recorded over B's claim.
    assert not await webhooks_db.reschedule(db, mine["id"], "a", 1, 0.0, "timeout")
    assert not await webhooks_db.mark_failed(db, mine["id"], "a", 1, "timeout")
    row = await db.fetchrow("SELECT * FROM webhook_deliveries")
    assert (row["claimed_by"], row["last_error"], row["failed_at"]) == ("b", None, None)
    assert await webhooks_db.reschedule(db, mine["id"], "b", 2, 0.0, "HTTP 502")
    [again] = await webhooks_db.claim_due(db, "a", 30, BATCH)
    assert again["attempts"] == 3
    assert await webhooks_db.mark_delivered(db, again["id"])
    assert await webhooks_db.claim_due(db, "b", 30, BATCH) == []


@contextmanager
def _instance(dsn: str, webhook: str, log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """An instance in its own process (`dispatch112 serve`), so that it can be frozen;
    yields its URL and the process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": dsn, "DISPATCH112_SECRET_KEY": "test",
           "DISPATCH112_LINE_POLL_S": "0.2", "DISPATCH112_LINE_LEADER_STALE_S": "1",
           "DISPATCH112_FAILOVER_WEBHOOKS": webhook}
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dispatch.cli", "serve", "--port", str(port)],
            env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
            start_new_session=True)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        os.killpg(process.pid, signal.SIGCONT)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


async def test_a_leader_frozen_mid_batch_finishes_it_and_nothing_is_sent_twice(
        dsn: str, db: asyncpg.Connection, tmp_path: Path) -> None:
    async with WebhookReceiver(answer_after_s=ANSWER_AFTER_S) as receiver:
        # B's deadline and claims as A's (the defaults), its pace as A's.
        settings = Settings(database_url=dsn, secret_key="test", line_poll_s=0.2,
                            line_leader_stale_s=1.0, failover_webhooks=(receiver.url("/sms"),))
        with _instance(dsn, receiver.url("/sms"), tmp_path / "a.log") as (url_a, process_a):
            async with Api(url_a, dsn) as api:
                await wait_until(lambda: _answers(api, url_a), 20, "A up", poll_s=0.1)
                await api.login_all()
                a = await wait_until(lambda: _leading(api, url_a), what="A leading")
                async with running_service(settings) as url_b:
                    keys = await _queue(db, receiver.url("/sms"))
                    await wait_until(lambda: len(receiver.at("/sms")) >= BATCH,
                                     what="A's first batch in flight")
                    os.killpg(process_a.pid, signal.SIGSTOP)
                    b = await wait_until(lambda: _leading(api, url_b), what="B taking over")
                    os.killpg(process_a.pid, signal.SIGCONT)
                    await wait_until(lambda: _all_delivered(db),
                                     what="every notification delivered")
    _assert_each_once(receiver, keys)
    assert b["instance_id"] != a["instance_id"]
    # A, woken, recorded the batch it had claimed; B delivered the rest.
    by = Counter(await db.fetchval("SELECT array_agg(claimed_by) FROM webhook_deliveries"))
    assert by == {a["instance_id"]: BATCH, b["instance_id"]: DELIVERIES - BATCH}


async def _answers(api: Api, base_url: str) -> bool:
    try:
        return (await api.http.get(f"{base_url}/api/v1/health", timeout=1)).status_code == 200
    except httpx.TransportError:
        return False
