"""A leader that loses its lock in the middle of a batch of failover webhooks: the
receiver still gets every delivery, each exactly once, whoever ends up delivering.

Two instances run on one database, both configured with the same slow receiver (it
answers a second after reading each request, like a gateway busy sending the SMS).
While the leader's first batch is in flight, its lock-holding session is ended
(pg_terminate_backend, what a standby does to a frozen leader): it loses the lead,
the other instance takes over and delivers the rest.
"""

from __future__ import annotations

from collections import Counter

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

                async def all_delivered() -> bool:
                    return await db.fetchval(
                        "SELECT count(*) FROM webhook_deliveries"
                        " WHERE delivered_at IS NOT NULL") == DELIVERIES
                await wait_until(all_delivered, what="every notification delivered")
                b = await wait_until(lambda: _leading(api, url_b), what="B leading")
    seen = Counter(item.headers["idempotency-key"] for item in receiver.at("/sms"))
    assert set(seen) == keys
    assert [key for key, count in seen.items() if count > 1] == []
    assert b["instance_id"] != a["instance_id"]
    assert await db.fetchval("SELECT count(*) FROM webhook_deliveries"
                             " WHERE failed_at IS NOT NULL OR attempts <> 1") == 0

