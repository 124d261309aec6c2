"""How block-list entries are shown: the whole audit row (admins only)."""

from __future__ import annotations

import asyncpg

BLOCK_FIELDS = ("id", "number", "reason", "created_at", "created_by", "expires_at",
                "lifted_at", "lifted_by")


def block_entry_view(row: asyncpg.Record) -> dict:
    return {key: row[key] for key in BLOCK_FIELDS}
