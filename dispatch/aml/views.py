"""What the AML endpoints answer: whether the position was taken, and where it went."""

from __future__ import annotations


def accepted_view(call_id: int | None, location: dict) -> dict:
    return {"accepted": True, "call_id": call_id, "location": location}


def refused_view(reason: str) -> dict:
    """The ELS receiver answers 200 whatever it got (a handset does not retry); the
    body says why nothing was taken."""
    return {"accepted": False, "reason": reason}
