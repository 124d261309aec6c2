"""How calls, a caller's history and AML positions are shown to clients."""

from __future__ import annotations

import asyncpg

from dispatch.openapi import BOOLEAN, INTEGER, STRING, TIME, nullable, shape
from dispatch.vocabulary import CALL_DISPOSITIONS, CALL_STATES

CALL_FIELDS = ("id", "caller_number", "line_id", "status", "disposition", "incident_id",
               "received_at", "ended_at", "blocked", "taken_by", "taken_at")
AML_FIELDS = ("id", "lat", "lon", "radius_m", "confidence", "method", "transport", "at",
              "received_at")
# The JSON Schema of call_view.
CALL = shape(id=INTEGER, caller_number=nullable(STRING), line_id=nullable(INTEGER),
             status={"enum": list(CALL_STATES)},
             disposition={"enum": [*CALL_DISPOSITIONS, None]}, incident_id=nullable(INTEGER),
             received_at=TIME, ended_at=nullable(TIME), blocked=BOOLEAN,
             taken_by=nullable(STRING), taken_at=nullable(TIME))


def call_view(row: asyncpg.Record) -> dict:
    """A call as POST /api/v1/calls answers it and `call.created` carries it."""
    return {key: row[key] for key in CALL_FIELDS}


def aml_view(row: asyncpg.Record) -> dict:
    return {key: row[key] for key in AML_FIELDS}


def block_view(row: asyncpg.Record | None) -> dict:
    """What the caller's history and the gateway's lookup say of a number's block."""
    if row is None:
        return {"blocked": False}
    return {"blocked": True, "until": row["expires_at"], "reason": row["reason"]}
