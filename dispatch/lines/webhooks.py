"""Failover notifications to outside systems: the SMS gateway, the WhatsApp bot, the
city website (`DISPATCH112_FAILOVER_WEBHOOKS`).

A notification is written to an outbox in the transaction of the failover itself,
so it is never lost with an instance and never sent for a change that rolled back.
The deliverer POSTs it as JSON; any 2xx answer delivers it. Anything else (another
status, a refused connection, a timeout) is retried after `webhook_backoff_s`,
doubling each time up to MAX_BACKOFF_S, until `webhook_max_attempts`. Every attempt
is logged, with the URL redacted to scheme://host/path (its userinfo and query may
hold the gateway's token, so neither is ever logged). Each delivery carries its id in
`Idempotency-Key`, the same on every retry, so a receiver that got it but whose
answer was lost can drop the repeat.
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import structlog

from db import webhooks as webhooks_db
from dispatch.background import Backoff, run_step
from dispatch.context import Context
from dispatch.lines.timing import wait_event
from dispatch.logs import redact_text, redact_url

log = structlog.get_logger(__name__)
MAX_BACKOFF_S = 300.0
BATCH = 20


async def do_enqueue(conn: asyncpg.Connection, ctx: Context, payload: dict) -> None:
    """Queue `payload` for every configured URL, in the caller's transaction."""
    urls = list(ctx.settings.failover_webhooks)
    if urls:
        await webhooks_db.insert_deliveries(conn, urls, payload)


def get_backoff_s(ctx: Context, attempts: int) -> float:
    """The wait before the next try, after `attempts` tries."""
    return min(ctx.settings.webhook_backoff_s * 2 ** (attempts - 1), MAX_BACKOFF_S)


async def _post(client: httpx.AsyncClient, delivery: asyncpg.Record) -> str | None:
    """POST one delivery; None when delivered, else what went wrong."""
    try:
        response = await client.post(delivery["url"], json=delivery["payload"], headers={
            "Idempotency-Key": f"dispatch112-{delivery['id']}"})
    except httpx.HTTPError as exc:
        return redact_text(f"{type(exc).__name__}: {exc}", delivery["url"])
    return None if response.is_success else f"HTTP {response.status_code}"


async def _settle(ctx: Context, delivery: asyncpg.Record, error: str | None) -> None:
    attempt = {"delivery_id": delivery["id"], "url": redact_url(delivery["url"]),
               "attempt": delivery["attempts"]}
    async with ctx.acquire() as conn:
        if error is None:
            await webhooks_db.mark_delivered(conn, delivery["id"])
            log.info("webhook.delivered", **attempt)
        elif delivery["attempts"] >= ctx.settings.webhook_max_attempts:
            await webhooks_db.mark_failed(conn, delivery["id"], error)
            log.error("webhook.gave_up", error=error, **attempt)
        else:
            delay = get_backoff_s(ctx, delivery["attempts"])
            await webhooks_db.reschedule(conn, delivery["id"], delay, error)
            log.warning("webhook.failed", error=error, retry_in_s=delay, **attempt)


async def do_deliver_due(ctx: Context, client: httpx.AsyncClient) -> int:
    """One attempt for every delivery that is due (at most BATCH at once, side by
    side); returns how many were tried."""
    lease_s = ctx.settings.webhook_timeout_s + 5
    async with ctx.acquire() as conn:
        due = await webhooks_db.claim_due(conn, lease_s, BATCH)
    errors = await asyncio.gather(*(_post(client, delivery) for delivery in due))
    for delivery, error in zip(due, errors, strict=True):
        await _settle(ctx, delivery, error)
    return len(due)


async def _deliver_all_due(ctx: Context, client: httpx.AsyncClient,
                           stop: asyncio.Event) -> None:
    """Deliver batches until fewer than a full batch were due (or `stop`)."""
    while await do_deliver_due(ctx, client) == BATCH and not stop.is_set():
        pass


async def run_deliverer(ctx: Context, wake: asyncio.Event, stop: asyncio.Event) -> None:
    """Deliver until `stop`: at once when woken, else every `line_poll_s`. No error
    stops it: after a failed round it waits longer (up to `loop_backoff_max_s`)."""
    timeout = httpx.Timeout(ctx.settings.webhook_timeout_s)
    async with httpx.AsyncClient(timeout=timeout, headers={
            "User-Agent": "dispatch112"}) as client:
        backoff = Backoff(ctx.settings.line_poll_s, ctx.settings.loop_backoff_max_s)
        while not stop.is_set():
            ok = await run_step("webhook.deliverer", lambda: _deliver_all_due(ctx, client, stop))
            await wait_event(wake, backoff.next_s(ok))
            wake.clear()
