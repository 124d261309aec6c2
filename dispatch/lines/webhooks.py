"""Failover notifications to outside systems: the SMS gateway, the WhatsApp bot, the
city website (`DISPATCH112_FAILOVER_WEBHOOKS`).

A notification is written to an outbox in the transaction of the failover itself,
so it is never lost with an instance and never sent for a change that rolled back.
The deliverer POSTs it as JSON; any 2xx answer delivers it. Anything else (another
status, a refused connection, a timeout) is retried after `webhook_backoff_s`,
doubling each time up to MAX_BACKOFF_S, until `webhook_max_attempts`. Every attempt
is logged, with the URL redacted to scheme://host/path (its userinfo and query may
hold the gateway's token, so neither is ever logged).

Once, and never two at a time. Each attempt is made under a claim on the delivery
(db/webhooks.py) lasting `lease_s` = the POST's whole deadline + LEASE_MARGIN_S: no
other instance takes the delivery while the claim runs, a POST is started only while
at least its deadline is left of the claim (by this process's clock, which started
counting before the database did), and a POST not answered within its deadline is
abandoned. So a leader that loses its lock mid-batch (its session ended, or it froze
and another took over) and the instance that took over never POST one delivery side
by side: the old leader finishes the batch it claimed and records it, and the new
one takes only the rest. The window that remains: a process that dies, or is held up
past its POST's deadline, after the POST reached the receiver but before the answer
was read and recorded, leaves the delivery to be sent again (when the claim is over,
or as a retry). Each delivery therefore carries its id in `Idempotency-Key`, the
same on every try, so that a receiver can drop the repeat.
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import structlog

from db import webhooks as webhooks_db
from dispatch.background import Backoff, run_step
from dispatch.context import Context
from dispatch.lines.timing import wait_events
from dispatch.logs import redact_text, redact_url

log = structlog.get_logger(__name__)
MAX_BACKOFF_S = 300.0
BATCH = 20
# A claim outlasts the POST's deadline by this much: the time a batch may take to
# get from the claim to its POSTs, and clock drift between this process and the database.
LEASE_MARGIN_S = 5.0


async def do_enqueue(conn: asyncpg.Connection, ctx: Context, payload: dict) -> None:
    """Queue `payload` for every configured URL, in the caller's transaction."""
    urls = list(ctx.settings.failover_webhooks)
    if urls:
        await webhooks_db.insert_deliveries(conn, urls, payload)


def get_backoff_s(ctx: Context, attempts: int) -> float:
    """The wait before the next try, after `attempts` tries."""
    return min(ctx.settings.webhook_backoff_s * 2 ** (attempts - 1), MAX_BACKOFF_S)


def get_lease_s(ctx: Context) -> float:
    """How long a claim on a delivery lasts: a whole POST, and the margin."""
    return ctx.settings.webhook_timeout_s + LEASE_MARGIN_S


async def _post(client: httpx.AsyncClient, delivery: asyncpg.Record, timeout_s: float,
                send_by: float) -> str | None:
    """POST one delivery, if it can still end within its claim; None when delivered,
    else what went wrong."""
    if asyncio.get_running_loop().time() > send_by:
        # This process stalled since the claim: another may take the delivery before
        # the POST could end. Not sent; tried again under a new claim.
        return "claim too short to send (the deliverer was held up)"
    try:
        # httpx's timeout bounds each read and write; this bounds the whole exchange,
        # so that it ends before the claim does.
        async with asyncio.timeout(timeout_s):
            response = await client.post(delivery["url"], json=delivery["payload"], headers={
                "Idempotency-Key": f"dispatch112-{delivery['id']}"})
    except TimeoutError:
        return f"no answer within {timeout_s:g} s"
    except httpx.HTTPError as exc:
        return redact_text(f"{type(exc).__name__}: {exc}", delivery["url"])
    return None if response.is_success else f"HTTP {response.status_code}"


async def _settle(ctx: Context, delivery: asyncpg.Record, error: str | None) -> None:
    """Record one attempt: delivered whoever made it; a failure only under its claim."""
    attempt = {"delivery_id": delivery["id"], "url": redact_url(delivery["url"]),
               "attempt": delivery["attempts"]}
    claim = delivery["claimed_by"], delivery["attempts"]
    async with ctx.acquire() as conn:
        if error is None:
            await webhooks_db.mark_delivered(conn, delivery["id"])
            log.info("webhook.delivered", **attempt)
        elif delivery["attempts"] >= ctx.settings.webhook_max_attempts:
            if await webhooks_db.mark_failed(conn, delivery["id"], *claim, error):
                log.error("webhook.gave_up", error=error, **attempt)
            else:
                log.warning("webhook.claim_lost", error=error, **attempt)
        else:
            delay = get_backoff_s(ctx, delivery["attempts"])
            if await webhooks_db.reschedule(conn, delivery["id"], *claim, delay, error):
                log.warning("webhook.failed", error=error, retry_in_s=delay, **attempt)
            else:
                log.warning("webhook.claim_lost", error=error, **attempt)


async def do_deliver_due(ctx: Context, client: httpx.AsyncClient, instance_id: str) -> int:
    """One attempt, under a claim of `instance_id`'s, for every delivery that is due
    (at most BATCH at once, side by side), each recorded as soon as it is answered;
    returns how many were tried."""
    timeout_s, lease_s = ctx.settings.webhook_timeout_s, get_lease_s(ctx)
    # Taken before the claim: the claim, by the database's clock, lasts at least to
    # claimed + lease_s by this one.
    claimed = asyncio.get_running_loop().time()
    async with ctx.acquire() as conn:
        due = await webhooks_db.claim_due(conn, instance_id, lease_s, BATCH)
    send_by = claimed + lease_s - timeout_s

    async def attempt(delivery: asyncpg.Record) -> None:
        await _settle(ctx, delivery, await _post(client, delivery, timeout_s, send_by))
    # Every attempt runs to its end (and is recorded) even when another one fails.
    outcomes = await asyncio.gather(*(attempt(row) for row in due), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return len(due)


async def _deliver_all_due(ctx: Context, client: httpx.AsyncClient, instance_id: str,
                           stop: asyncio.Event) -> None:
    """Deliver batches until fewer than a full batch were due (or `stop`)."""
    while await do_deliver_due(ctx, client, instance_id) == BATCH and not stop.is_set():
        pass


async def run_deliverer(ctx: Context, instance_id: str, wake: asyncio.Event,
                        stop: asyncio.Event) -> None:
    """Deliver until `stop`: at once when woken, else every `line_poll_s`. No error
    stops it: after a failed round it waits longer (up to `loop_backoff_max_s`).
    `stop` ends it after the batch in hand (see stop_deliverer)."""
    timeout = httpx.Timeout(ctx.settings.webhook_timeout_s)
    async with httpx.AsyncClient(timeout=timeout, headers={
            "User-Agent": "dispatch112"}) as client:
        backoff = Backoff(ctx.settings.line_poll_s, ctx.settings.loop_backoff_max_s)
        while not stop.is_set():
            ok = await run_step("webhook.deliverer",
                                lambda: _deliver_all_due(ctx, client, instance_id, stop))
            await wait_events((wake, stop), backoff.next_s(ok))
            wake.clear()
