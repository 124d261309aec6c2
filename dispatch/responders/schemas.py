"""Request bodies (and websocket frames) of a team's phone."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from dispatch.schemas import Body, Id, Latitude, Longitude, Time
from dispatch.vocabulary import RESPONDER_ACTIONS


class StatusIn(Body):
    action: Literal[RESPONDER_ACTIONS]
    incident_id: Id
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=100,
                                                pattern=r"^[A-Za-z0-9_.:-]+$")]
    at: Time | None = None


class LocationIn(Body):
    lat: Latitude
    lon: Longitude
    accuracy_m: Annotated[float, Field(strict=True, ge=0, le=100_000)] | None = None
    at: Time | None = None
