"""How calls are shown to clients."""

from __future__ import annotations

import asyncpg

from dispatch.openapi import INTEGER, STRING, TIME, nullable, shape
from dispatch.vocabulary import CALL_DISPOSITIONS, CALL_STATES

# The JSON Schema of call_view.
CALL = shape(id=INTEGER, caller_number=STRING, line_id=nullable(INTEGER),
             status={"enum": list(CALL_STATES)},
             disposition={"enum": [*CALL_DISPOSITIONS, None]}, incident_id=nullable(INTEGER),
             received_at=TIME, ended_at=nullable(TIME))


def call_view(row: asyncpg.Record) -> dict:
    return {key: row[key] for key in ("id", "caller_number", "line_id", "status", "disposition",
                                      "incident_id", "received_at", "ended_at")}
