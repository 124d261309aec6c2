"""Request bodies of the HTTP API (and of websocket frames), with their limits."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

import phonenumbers
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

DEFAULT_REGION = "ID"


def _phone(value: str) -> str:
    """Normalise to E.164 (Indonesian numbers may be written 0812..., +62812..., 62812...)."""
    try:
        number = phonenumbers.parse(value, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _utc(value: datetime) -> datetime:
    """The same instant in UTC; a ValueError (422) when that is outside years 1-9999."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once in UTC") from None


def Text(max_length: int, min_length: int = 0) -> type[str]:  # noqa: N802 - a type factory
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length,
                                            max_length=max_length)]


Phone = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=32),
                  AfterValidator(_phone)]
Time = Annotated[AwareDatetime, AfterValidator(_utc)]
Latitude = Annotated[float, Field(strict=True, ge=-90, le=90)]
Longitude = Annotated[float, Field(strict=True, ge=-180, le=180)]
Priority = Annotated[int, Field(strict=True, ge=1, le=3)]
Id = Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]
Kind = Literal["als", "bls", "motorbike"]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32,
                                        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Pin = Annotated[str, StringConstraints(min_length=4, max_length=12, pattern=r"^[0-9]+$")]


class Body(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False, str_max_length=4000, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        """Refuse text with a NUL character (422): PostgreSQL text cannot store one."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL character")
        return value


class PositionIn(Body):
    lat: Latitude
    lon: Longitude


class TokenRequest(Body):
    username: Text(64, 1)
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class DeviceRequest(Body):
    team_code: Code
    pin: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class TeamIn(Body):
    code: Code
    name: Text(100, 1)
    kind: Kind
    base: PositionIn
    base_name: Text(200) = ""
    pin: Pin
    phone: Phone | None = None


class TeamServiceIn(Body):
    status: Literal["available", "out_of_service"]


class ShiftIn(Body):
    starts_at: Time
    ends_at: Time


class CallIn(Body):
    caller_number: Phone
    line_id: Id | None = None
    received_at: Time | None = None


class CallEndIn(Body):
    disposition: Literal["incident", "info", "prank", "dropped", "duplicate"]
    incident_id: Id | None = None


class IncidentIn(Body):
    call_id: Id | None = None
    caller_number: Phone
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


class StatusIn(Body):
    action: Literal["acknowledge", "en_route", "on_scene", "transporting", "at_hospital",
                    "clear"]
    incident_id: Id
    client_id: Annotated[str, StringConstraints(min_length=1, max_length=100,
                                                pattern=r"^[A-Za-z0-9_.:-]+$")]
    at: Time | None = None


class LocationIn(Body):
    lat: Latitude
    lon: Longitude
    accuracy_m: Annotated[float, Field(strict=True, ge=0, le=100_000)] | None = None
    at: Time | None = None


# Line failover. Probe bounds: intervals from 0.1 s (tests) to an hour; a timeout
# longer than the interval only delays the next probe.
Seconds = Annotated[float, Field(strict=True, ge=0.05, le=3600)]
Count = Annotated[int, Field(strict=True, ge=1, le=100)]
Host = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=253,
                                        pattern=r"^[A-Za-z0-9.:_-]+$")]
LineNumber = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=32, pattern=r"^\+?[0-9][0-9 -]*$")]


class ProbeBody(BaseModel):
    """A probe's settings. Not a Body: pydantic's discriminated unions refuse Body's
    mode='before' validator on `kind`; no probe field can carry a NUL anyway."""

    model_config = ConfigDict(allow_inf_nan=False, str_max_length=4000, frozen=True)


class SipOptionsProbeIn(ProbeBody):
    """SIP OPTIONS over UDP to the trunk or PBX; only a 200 answer counts as alive."""

    kind: Literal["sip_options"]
    host: Host
    port: Annotated[int, Field(strict=True, ge=1, le=65535)] = 5060
    interval_s: Annotated[float, Field(strict=True, ge=0.1, le=3600)] = 10.0
    timeout_s: Seconds = 2.0
    fail_after: Count = 3
    recover_after: Count = 2


class HeartbeatProbeIn(ProbeBody):
    """The telephony gateway posts heartbeats; silence over `timeout_s` is a failure."""

    kind: Literal["heartbeat"]
    timeout_s: Annotated[float, Field(strict=True, ge=0.2, le=86400)] = 30.0


class NoProbeIn(ProbeBody):
    """Not monitored: the line is taken to be up."""

    kind: Literal["none"]


class LineIn(Body):
    number: LineNumber
    label: Text(100, 1)
    priority: Annotated[int, Field(strict=True, ge=0, le=1000)]
    probe: Annotated[SipOptionsProbeIn | HeartbeatProbeIn | NoProbeIn,
                     Field(discriminator="kind")] = NoProbeIn(kind="none")


class OverrideIn(Body):
    """Force a line active (`line_id`), or go back to automatic choice (null)."""

    line_id: Id | None = None
    reason: Text(500, 1)
