"""Calls on the 112 lines: opening one (flagged when the number is blocked, with any
AML position that arrived first), ending it with a disposition (`duplicate` attaches
it to an active incident), the call log and a caller's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from db import aml as aml_db
from db import blocklist as blocklist_db
from db import calls as calls_db
from db import incidents as incidents_db
from db import lines as lines_db
from dispatch.blocklist.service import do_auto_block
from dispatch.calls.schemas import CallEndIn, CallIn
from dispatch.calls.views import aml_view, block_view, call_view
from dispatch.clock import check_recent_time
from dispatch.config import Settings
from dispatch.errors import (
    CallAlreadyTaken,
    Conflict,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from dispatch.events import emit
from dispatch.events.catalogue import CallCreated, CallEnded, CallLocated, CallTaken
from dispatch.incidents.announce import do_announce_incident
from dispatch.incidents.views import incident_view
from dispatch.vocabulary import ACTIVE_INCIDENT_STATES, CALL_DISPOSITIONS_WITH_INCIDENT

HISTORY_LIMIT = 200
LOG_LIMIT = 500


async def do_create_call(conn: asyncpg.Connection, body: CallIn, *, actor: str,
                         settings: Settings, taken_by: str | None = None) -> dict:
    """Open a call. A blocked number's call is logged all the same, flagged `blocked`;
    AML positions from the number that came in the last `aml_window_s` are tied to it.
    `taken_by`: the operator who opened it by picking up, who has it from the start
    (None, the gateway's call: it rings on every dashboard until one takes it)."""
    if body.line_id is not None and not await lines_db.line_exists(conn, body.line_id):
        raise ValidationFailed.field("line_id", f"no line {body.line_id}")
    received_at = check_recent_time(body.received_at, "received_at")
    number = body.caller_number
    blocked = number is not None and await blocklist_db.get_live_block(conn, number) is not None
    row = await calls_db.insert_call(conn, caller_number=number, line_id=body.line_id,
                                     received_at=received_at, created_by=actor,
                                     blocked=blocked, taken_by=taken_by)
    view = call_view(row)
    await emit(conn, CallCreated(**view), actor=actor)
    if number is not None:
        since = datetime.now(UTC) - timedelta(seconds=settings.aml_window_s)
        for location in await aml_db.claim_waiting(conn, row["id"], number, since):
            await emit(conn, CallLocated(call_id=row["id"], caller_number=number,
                                         location=aml_view(location)), actor=actor)
    return view


async def do_take_call(conn: asyncpg.Connection, call_id: int, *, user: str,
                       actor: str) -> dict:
    """`user` takes an open call nobody has taken: exactly one of several operators
    trying at once does (the guard is the UPDATE's WHERE). 404 unknown; 409 when it
    has ended, or was taken (naming by whom: the same user again too, so that a
    second tab cannot think it won)."""
    row = await calls_db.take_call(conn, call_id, user)
    if row is None:
        check_takeable(await calls_db.get_call(conn, call_id), call_id)
    view = call_view(row)
    await emit(conn, CallTaken(**view), actor=actor)
    return view


def check_takeable(call: asyncpg.Record | None, call_id: int) -> None:
    """Why a call could not be taken, as the error to answer."""
    if call is None:
        raise NotFound(f"no call {call_id}")
    if call["taken_by"] is not None:
        raise CallAlreadyTaken(f"panggilan sudah diangkat oleh {call['taken_by']} / call "
                        f"{call_id} was already taken by {call['taken_by']}",
                        taken_by=call["taken_by"])
    raise InvalidTransition(f"panggilan sudah berakhir / call {call_id} has already ended")


def check_taker(call: asyncpg.Record, user: str | None) -> None:
    """409 when another operator than `user` has the call (None: the gateway, which
    may end any call)."""
    if user is not None and call["taken_by"] not in (None, user):
        raise CallAlreadyTaken(f"panggilan diangkat oleh {call['taken_by']} / call {call['id']} "
                        f"was taken by {call['taken_by']}", taken_by=call["taken_by"])


async def check_end(conn: asyncpg.Connection, call_id: int, body: CallEndIn,
                    user: str | None = None) -> None:
    """404 for an unknown call; 409 when another operator has it; 422 for an incident
    that does not fit the disposition (`duplicate` must name one, only `incident` and
    `duplicate` may); 409 for a duplicate of an incident that has ended (closed,
    cancelled)."""
    call = await calls_db.get_call(conn, call_id)
    if call is None:
        raise NotFound(f"no call {call_id}")
    if call["status"] == "open":
        check_taker(call, user)
    if body.disposition == "duplicate" and body.incident_id is None:
        raise ValidationFailed.field("incident_id",
                                     "a duplicate call names the incident it is about")
    if body.incident_id is None:
        return
    if body.disposition not in CALL_DISPOSITIONS_WITH_INCIDENT:
        raise ValidationFailed.field("incident_id", f"not with disposition {body.disposition}")
    incident = await incidents_db.lock_incident(conn, body.incident_id)
    if incident is None:
        raise ValidationFailed.field("incident_id", f"no incident {body.incident_id}")
    if body.disposition == "duplicate" and incident["status"] not in ACTIVE_INCIDENT_STATES:
        raise Conflict(f"incident {body.incident_id} is {incident['status']}: a call cannot "
                       "join it / insiden sudah selesai atau dibatalkan")


async def do_end_call(conn: asyncpg.Connection, call_id: int, body: CallEndIn, *,
                      actor: str, settings: Settings, user: str | None = None) -> dict:
    """End an open call with its disposition; 409 when it has ended already. A call
    tied to an incident appears in the incident's timeline (`call.ended`), and the
    incident is announced again with its new `call_count` (the team's card shows it).
    A prank may block its number automatically (dispatch/blocklist, `auto_block_pranks`).
    `user`: the operator ending it (None: the gateway); 409 when another one has it."""
    await check_end(conn, call_id, body, user)
    row = await calls_db.end_call(conn, call_id, body.disposition, body.incident_id, user)
    if row is None:
        # Ended, or taken by another operator, since check_end looked.
        call = await calls_db.get_call(conn, call_id)
        if call["status"] == "open":
            check_taker(call, user)
        raise InvalidTransition(f"call {call_id} has already ended")
    view = call_view(row)
    await emit(conn, CallEnded(**view), actor=actor, incident_id=row["incident_id"])
    if body.incident_id is not None:
        incident = await incidents_db.get_incident(conn, body.incident_id)
        await do_announce_incident(conn, body.incident_id, actor=actor,
                                   team_id=incident["team_id"])
    if body.disposition == "prank" and row["caller_number"] is not None:
        await do_auto_block(conn, row["caller_number"], settings=settings)
    return view


async def get_call_detail(conn: asyncpg.Connection, call_id: int) -> dict:
    """The call with its AML positions (newest first); 404 when unknown."""
    row = await calls_db.get_call(conn, call_id)
    if row is None:
        raise NotFound(f"no call {call_id}")
    locations = await aml_db.get_call_locations(conn, call_id)
    return {**call_view(row), "aml": [aml_view(location) for location in locations]}


async def get_caller_history(conn: asyncpg.Connection, number: str,
                             settings: Settings) -> dict:
    """What the operator sees beside the form once the number is known: the calls and
    incidents from it in the last `caller_history_days`, newest first, and its block."""
    since = datetime.now(UTC) - timedelta(days=settings.caller_history_days)
    calls = await calls_db.get_calls_by_number(conn, number, since, HISTORY_LIMIT)
    incidents = await incidents_db.get_incidents_by_number(conn, number, since,
                                                           HISTORY_LIMIT)
    block = await blocklist_db.get_live_block(conn, number)
    return {"number": number, "since": since, "items": [call_view(c) for c in calls],
            "incidents": [incident_view(i) for i in incidents], "block": block_view(block)}


async def get_call_log(conn: asyncpg.Connection, status: str | None, hours: int) -> dict:
    """The call log: calls of the last `hours` hours and every open call, newest first."""
    since = datetime.now(UTC) - timedelta(hours=hours)
    rows = await calls_db.get_recent_calls(conn, status, since, LOG_LIMIT)
    return {"since": since, "items": [call_view(row) for row in rows]}
