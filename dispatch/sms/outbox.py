"""The SMS outbox: messages are stored in the transaction of the change that causes
them, then sent by a worker every instance runs (`run_sms_sender`).

A message is claimed with a lease in SQL (db.sms.claim_due: a guarded UPDATE ...
RETURNING with a fresh lease id), so two instances never send the same message, and
a message whose sender died is sent again only once its lease ran out. Only the
oldest unsent message of each number is claimed: messages to one phone go in the
order they were queued (an assignment, then its withdrawal). A refusal or a gateway
out of reach is retried after `sms_backoff_s`, doubling up to `sms_backoff_max_s`,
until `sms_max_attempts`; then the message is given up (logged, and it no longer
holds up later ones).
"""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import structlog

from db import sms as sms_db
from dispatch.background import Backoff, run_step
from dispatch.context import Context
from dispatch.lines.timing import wait_event
from dispatch.logs import redact_url
from dispatch.sms.gateways import GatewayRefused, get_sender
from dispatch.teams.service import do_announce_team

log = structlog.get_logger(__name__)
BATCH = 20
SYSTEM = "system"


async def do_queue(conn: asyncpg.Connection, ctx: Context, *, numbers: list[str], kind: str,
                   body: str, team_id: int | None, incident_id: int | None = None,
                   assignment_id: int | None = None) -> list[int]:
    """Queue `body` to `numbers` in the caller's transaction (nothing without a
    gateway); the worker is woken after commit by `ctx.after_commit`."""
    if ctx.settings.sms_gateway is None or not numbers:
        return []
    ids = await sms_db.insert_messages(conn, numbers=numbers, kind=kind, body=body,
                                       team_id=team_id, incident_id=incident_id,
                                       assignment_id=assignment_id)
    log.info("sms.queued", kind=kind, team_id=team_id, incident_id=incident_id,
             messages=ids, length=len(body))
    if ctx.sms_wake is not None:
        ctx.sms_wake.set()
    return ids


def get_backoff_s(ctx: Context, attempts: int) -> float:
    """The wait before the next try, after `attempts` tries."""
    return min(ctx.settings.sms_backoff_s * 2 ** (attempts - 1), ctx.settings.sms_backoff_max_s)


async def _submit(ctx: Context, client: httpx.AsyncClient,
                  message: asyncpg.Record) -> tuple[str | None, str | None]:
    """(gateway id, None) when the gateway took it, else (None, what went wrong)."""
    kind, url = ctx.settings.sms_gateway
    try:
        return await get_sender(kind)(client, url, message["to_number"], message["body"]), None
    except GatewayRefused as exc:
        return None, str(exc)


async def _note_sent(conn: asyncpg.Connection, ctx: Context, message: asyncpg.Record) -> None:
    """An assignment's first SMS accepted while unacknowledged: SMS reached the team."""
    if message["kind"] != "assignment" or message["assignment_id"] is None:
        return
    noted = await sms_db.note_assignment_sms_sent(conn, message["assignment_id"])
    if noted is not None and noted["unacknowledged"]:
        await sms_db.set_team_reached(conn, noted["team_id"], "sms")
        await do_announce_team(conn, noted["team_id"], actor=SYSTEM,
                               gps_fresh_s=ctx.settings.gps_fresh_s)


async def _settle(ctx: Context, message: asyncpg.Record, gateway_id: str | None,
                  error: str | None) -> None:
    attempt = {"message_id": message["id"], "kind": message["kind"],
               "attempt": message["attempts"], "gateway": redact_url(ctx.settings.sms_gateway[1])}
    async with ctx.transaction() as conn:
        if error is None:
            if await sms_db.mark_sent(conn, message["id"], message["lease_id"],
                                      gateway_id) is None:
                log.error("sms.lease_lost", **attempt)  # sent under a lease that ran out
                return
            await _note_sent(conn, ctx, message)
            log.info("sms.sent", gateway_id=gateway_id, **attempt)
        elif message["attempts"] >= ctx.settings.sms_max_attempts:
            await sms_db.mark_failed(conn, message["id"], message["lease_id"], error)
            log.error("sms.gave_up", error=error, **attempt)
        else:
            delay = get_backoff_s(ctx, message["attempts"])
            await sms_db.reschedule(conn, message["id"], message["lease_id"], delay, error)
            log.warning("sms.failed", error=error, retry_in_s=delay, **attempt)


async def do_send_due(ctx: Context, client: httpx.AsyncClient) -> int:
    """One attempt for each claimable message (at most BATCH, side by side: they go to
    different numbers); returns how many were tried."""
    async with ctx.acquire() as conn:
        due = await sms_db.claim_due(conn, ctx.settings.sms_timeout_s + 10, BATCH)
    results = await asyncio.gather(*(_submit(ctx, client, message) for message in due))
    for message, (gateway_id, error) in zip(due, results, strict=True):
        await _settle(ctx, message, gateway_id, error)
    return len(due)


async def _send_all_due(ctx: Context, client: httpx.AsyncClient, stop: asyncio.Event) -> None:
    """Send rounds until none was due: a number's next message becomes claimable only
    once the one before it is sent."""
    while await do_send_due(ctx, client) and not stop.is_set():
        pass


async def run_sms_sender(ctx: Context, wake: asyncio.Event, stop: asyncio.Event) -> None:
    """Send until `stop`: at once when woken, else every `sms_poll_s`. No error stops
    it: after a failed round it waits longer (up to `loop_backoff_max_s`)."""
    if ctx.settings.sms_gateway is None:
        return
    timeout = httpx.Timeout(ctx.settings.sms_timeout_s)
    async with httpx.AsyncClient(timeout=timeout, headers={
            "User-Agent": "dispatch112"}) as client:
        backoff = Backoff(ctx.settings.sms_poll_s, ctx.settings.loop_backoff_max_s)
        while not stop.is_set():
            ok = await run_step("sms.sender", lambda: _send_all_due(ctx, client, stop))
            await wait_event(wake, backoff.next_s(ok))
            wake.clear()
