"""Request bodies of recording and ending calls."""

from __future__ import annotations

from typing import Literal

from dispatch.schemas import Body, Id, Phone, Time
from dispatch.vocabulary import CALL_DISPOSITIONS


class CallIn(Body):
    caller_number: Phone
    line_id: Id | None = None
    received_at: Time | None = None


class CallEndIn(Body):
    disposition: Literal[CALL_DISPOSITIONS]
    incident_id: Id | None = None
