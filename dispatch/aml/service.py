"""Taking an AML position: tie it to the open call from the same number received
within `aml_window_s` (else keep it waiting for that call: an SMS may arrive before
the gateway reports the call), and announce it (`call.located`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from db import aml as aml_db
from dispatch.aml.parser import AmlFix, AmlRefused
from dispatch.calls.views import aml_view
from dispatch.config import Settings
from dispatch.events import emit
from dispatch.events.catalogue import CallLocated

log = structlog.get_logger(__name__)
# A fix this far from the server's clock is not of a call going on now.
MAX_FIX_AGE = timedelta(hours=1)
MAX_FIX_AHEAD = timedelta(minutes=10)


def check_fix_time(fix: AmlFix, now: datetime) -> None:
    if not now - MAX_FIX_AGE <= fix.at <= now + MAX_FIX_AHEAD:
        raise AmlRefused("the position's time is not of a call going on now")


async def do_take_fix(conn: asyncpg.Connection, fix: AmlFix, number: str | None, *,
                      transport: str, actor: str, settings: Settings) -> tuple[int | None, dict]:
    """Store `fix` from `number` (E.164, None when unknown) and tie it to its call;
    (call id or None, the location as shown)."""
    now = datetime.now(UTC)
    check_fix_time(fix, now)
    since = now - timedelta(seconds=settings.aml_window_s)
    call_id = None if number is None else await aml_db.find_open_call(conn, number, since)
    row = await aml_db.insert_location(
        conn, call_id=call_id, caller_number=number, lat=fix.lat, lon=fix.lon,
        radius_m=fix.radius_m, confidence=fix.confidence, method=fix.method,
        transport=transport, at=fix.at)
    location = aml_view(row)
    if call_id is not None:
        await emit(conn, CallLocated(call_id=call_id, caller_number=number,
                                     location=location), actor=actor)
    # The number and the position only: never the message (IMSI, IMEI).
    log.info("aml.taken", transport=transport, call_id=call_id, method=fix.method,
             radius_m=fix.radius_m)
    return call_id, location
