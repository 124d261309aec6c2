"""Times that clients supply: phones replaying queued steps, gateways posting calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dispatch.errors import ValidationFailed

# A phone replaying its queue may send times from the past, never from far ahead.
MAX_CLOCK_AHEAD = timedelta(minutes=2)
MAX_REPLAY_AGE = timedelta(hours=12)


def check_recent_time(at: datetime | None, field: str = "at") -> datetime | None:
    """A client-supplied time, refused (422) when in the future beyond clock skew or
    too old to replay; clamped to now. None stays None (the server's time is used)."""
    if at is None:
        return None
    now = datetime.now(UTC)
    if at > now + MAX_CLOCK_AHEAD:
        raise ValidationFailed.field(field, "is in the future")
    if at < now - MAX_REPLAY_AGE:
        raise ValidationFailed.field(field, "is too old to replay")
    return min(at, now)
