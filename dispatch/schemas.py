"""The types every domain's request bodies are built from, with their limits."""

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

from dispatch.errors import ValidationFailed
from dispatch.vocabulary import TEAM_KINDS

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


def check_phone(value: str) -> str | None:
    """`value` in E.164, or None when it is not a possible phone number."""
    try:
        return _phone(value)
    except ValueError:
        return None


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
Kind = Literal[TEAM_KINDS]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32,
                                        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Pin = Annotated[str, StringConstraints(min_length=4, max_length=12, pattern=r"^[0-9]+$")]
# A PIN set now (a new team, a changed PIN): 6 digits at least, a million to guess
# from; PINs of 4 set before keep working at login (Pin).
NewPin = Annotated[str, StringConstraints(min_length=6, max_length=12, pattern=r"^[0-9]+$")]


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


# --- query parameters -------------------------------------------------------------------

def check_phone_param(raw: str | None, name: str) -> str | None:
    """A phone number from the query or the path, in E.164; None when absent; 422
    naming `name` when it is not a possible number."""
    if raw is None:
        return None
    if not 2 <= len(raw.strip()) <= 32 or "\x00" in raw:
        raise ValidationFailed.field(name, "not a phone number")
    try:
        return _phone(raw)
    except ValueError as exc:
        raise ValidationFailed.field(name, str(exc)) from None


def check_float_param(raw: str | None, name: str, low: float, high: float) -> float | None:
    """A finite number in [low, high] from the query; None when absent; else 422."""
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValidationFailed.field(name, "must be a number") from None
    if not low <= value <= high:  # also refuses NaN and infinities
        raise ValidationFailed.field(name, f"must be between {low} and {high}")
    return value


def check_int_param(raw: str | None, name: str, low: int, high: int, default: int) -> int:
    """An integer in [low, high] from the query (ASCII digits only); `default` when absent."""
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9 and low <= int(raw) <= high):
        raise ValidationFailed.field(name, f"must be an integer from {low} to {high}")
    return int(raw)
