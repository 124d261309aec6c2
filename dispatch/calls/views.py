"""How calls are shown to clients."""

from __future__ import annotations

import asyncpg


def call_view(row: asyncpg.Record) -> dict:
    return {key: row[key] for key in ("id", "caller_number", "line_id", "status", "disposition",
                                      "incident_id", "received_at", "ended_at")}
