"""Request bodies of creating, assigning and cancelling incidents."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from dispatch.schemas import Body, Id, Kind, Phone, PositionIn, Priority, Text


class IncidentIn(Body):
    call_id: Id | None = None
    # null: withheld or unknown; the field itself must be sent.
    caller_number: Phone | None
    location: PositionIn
    address: Text(500, 1)
    complaint: Text(500, 1)
    priority: Priority
    required_kind: Kind | None = None
    patients: Annotated[int, Field(strict=True, ge=1, le=500)] = 1
    notes: Text(2000) = ""


class AssignIn(Body):
    team_id: Id


class CancelIn(Body):
    reason: Text(500, 1)
