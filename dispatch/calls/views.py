"""How calls, a caller's history and AML positions are shown to clients."""

from __future__ import annotations

import asyncpg

CALL_FIELDS = ("id", "caller_number", "line_id", "status", "disposition", "incident_id",
               "received_at", "ended_at", "blocked")
AML_FIELDS = ("id", "lat", "lon", "radius_m", "confidence", "method", "transport", "at",
              "received_at")


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
