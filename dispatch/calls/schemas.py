"""Request bodies of recording and ending calls, and the caller-history query."""

from __future__ import annotations

from typing import Literal

from dispatch.schemas import Body, Id, Phone, Time
from dispatch.vocabulary import CALL_DISPOSITIONS


class CallIn(Body):
    # null: withheld or unknown (a SIM-less phone); the field itself must be sent.
    caller_number: Phone | None
    line_id: Id | None = None
    received_at: Time | None = None


class CallEndIn(Body):
    disposition: Literal[CALL_DISPOSITIONS]
    incident_id: Id | None = None

