"""Request body of blocking a number."""

from __future__ import annotations

from dispatch.schemas import Body, Phone, Text, Time


class BlockIn(Body):
    number: Phone
    reason: Text(500, 1)
    # Unset: DISPATCH112_BLOCK_HOURS (24 h) from now.
    expires_at: Time | None = None
