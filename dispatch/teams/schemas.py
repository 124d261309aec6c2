"""Request bodies of managing teams and shifts."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from dispatch.schemas import Body, Code, Kind, NewPin, Phone, PositionIn, Text, Time


class TeamIn(Body):
    code: Code
    name: Text(100, 1)
    kind: Kind
    base: PositionIn
    base_name: Text(200) = ""
    pin: NewPin
    phone: Phone | None = None
    # The numbers SMS go to and replies are accepted from (docs/sms.md), besides `phone`.
    sms_numbers: Annotated[list[Phone], Field(max_length=5)] = []


class TeamServiceIn(Body):
    status: Literal["available", "out_of_service"]


class ShiftIn(Body):
    starts_at: Time
    ends_at: Time


class TeamPinIn(Body):
    pin: NewPin
