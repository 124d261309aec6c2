"""Blocking and unblocking numbers, and the gateway's lookup.

Indonesian 112 centres block prank and abusive numbers for a while; a blocked caller
who calls again is still logged (dispatch/calls, `blocked`). With `auto_block_pranks`
set, repeated pranks block a number by themselves. A number is never blocked, by hand
or automatically, while it may be a real emergency: with an active incident reported
from it, or a call from it in the last `never_block_s` that became (or joined) an
incident.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from db import blocklist as blocklist_db
from db import calls as calls_db
from db import incidents as incidents_db
from dispatch.blocklist.schemas import BlockIn
from dispatch.blocklist.views import block_entry_view
from dispatch.calls.views import block_view
from dispatch.config import Settings
from dispatch.errors import Conflict, NotFound, ValidationFailed
from dispatch.events import emit
from dispatch.events.catalogue import BlockAdded, BlockLifted

log = structlog.get_logger(__name__)
MAX_BLOCK = timedelta(days=366)


class NeverBlock(Conflict):
    title, slug = "Number may not be blocked", "never-block"


def check_expiry(expires_at: datetime | None, settings: Settings) -> datetime:
    """When the block ends: the given time (in the future, within a year; else 422) or
    the default `block_default_s` from now."""
    now = datetime.now(UTC)
    if expires_at is None:
        return now + timedelta(seconds=settings.block_default_s)
    if expires_at <= now:
        raise ValidationFailed.field("expires_at", "must be in the future")
    if expires_at > now + MAX_BLOCK:
        raise ValidationFailed.field("expires_at", "a block lasts at most a year")
    return expires_at


async def check_blockable(conn: asyncpg.Connection, number: str, settings: Settings) -> None:
    """409 when the never-block rule protects `number`."""
    since = datetime.now(UTC) - timedelta(seconds=settings.never_block_s)
    if await incidents_db.has_active_incident(conn, number):
        raise NeverBlock(
            "Nomor ini punya insiden aktif; tidak dapat diblokir. / This number has an "
            "active incident; it cannot be blocked.")
    if await calls_db.has_recent_incident_call(conn, number, since):
        minutes = settings.never_block_s // 60
        raise NeverBlock(
            f"Panggilan dari nomor ini dalam {minutes} menit terakhir menjadi insiden; "
            f"tidak dapat diblokir. / A call from this number in the last {minutes} "
            "minutes became an incident; it cannot be blocked.")


async def do_block(conn: asyncpg.Connection, body: BlockIn, *, actor: str,
                   settings: Settings) -> dict:
    """Block a number until `expires_at` (`blocklist.added`, the audit row). A number
    blocked already gets a second entry; the lookup answers the longest."""
    expires_at = check_expiry(body.expires_at, settings)
    await check_blockable(conn, body.number, settings)
    row = await blocklist_db.insert_block(conn, body.number, body.reason, expires_at, actor)
    view = block_entry_view(row)
    await emit(conn, BlockAdded(**view), actor=actor)
    return view


AUTO_WINDOW = timedelta(hours=24)
AUTO_ACTOR = "system:auto-block"


async def do_auto_block(conn: asyncpg.Connection, number: str, *,
                        settings: Settings) -> dict | None:
    """After a prank call: block `number` for `block_default_s` when its calls of the
    last 24 h were closed as pranks `auto_block_pranks` times, unless it is blocked
    already or the never-block rule protects it. The entry made, or None."""
    if settings.auto_block_pranks <= 0:
        return None
    since = datetime.now(UTC) - AUTO_WINDOW
    pranks = await calls_db.count_calls_by_disposition(conn, number, "prank", since)
    if pranks < settings.auto_block_pranks or \
            await blocklist_db.get_live_block(conn, number) is not None:
        return None
    try:
        await check_blockable(conn, number, settings)
    except NeverBlock:
        log.info("blocklist.auto_block_skipped", reason="never-block rule")
        return None
    reason = (f"otomatis: {pranks} panggilan iseng dalam 24 jam / automatic: {pranks} "
              "prank calls in 24 h")
    row = await blocklist_db.insert_block(
        conn, number, reason, datetime.now(UTC) + timedelta(seconds=settings.block_default_s),
        AUTO_ACTOR)
    view = block_entry_view(row)
    await emit(conn, BlockAdded(**view), actor=AUTO_ACTOR)
    return view


async def do_lift(conn: asyncpg.Connection, number: str, *, actor: str) -> None:
    """Lift every block of `number` in force (`blocklist.lifted` each); 404 when none."""
    rows = await blocklist_db.lift_blocks(conn, number, actor)
    if not rows:
        raise NotFound(f"{number} is not blocked / nomor ini tidak diblokir")
    for row in rows:
        await emit(conn, BlockLifted(**block_entry_view(row)), actor=actor)


async def get_lookup(conn: asyncpg.Connection, number: str) -> dict:
    """`{"blocked": false}` or `{"blocked": true, "until", "reason"}`."""
    return block_view(await blocklist_db.get_live_block(conn, number))


async def get_blocks(conn: asyncpg.Connection, live_only: bool, limit: int) -> list[dict]:
    return [block_entry_view(row) for row in await blocklist_db.get_blocks(
        conn, live_only=live_only, limit=limit)]
