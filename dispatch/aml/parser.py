"""Parsing AML messages: the ETSI TS 103 625 SMS text and the Android ELS form.

Any input is either parsed into an AmlFix or refused with AmlRefused naming why;
nothing else escapes (tests/test_aml.py fuzzes both with hypothesis). The IMSI
(`si`, `device_imsi`) and IMEI (`ei`, `device_imei`) a handset sends are dropped
here, never stored or logged: the number and the position are all a dispatcher needs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_SMS = 1000  # a concatenated SMS is far shorter; anything longer is not AML
MAX_RADIUS_M = 1_000_000.0
SMS_PREFIXES = ('A"ML=', "AML=")
ML_SLACK = 2
# ETSI positioning methods (pm) and the Android ELS location sources.
SMS_METHODS = {"G": "gnss", "W": "wifi", "C": "cell", "H": "hybrid", "N": "unknown"}
ELS_METHODS = {"gps": "gnss", "gnss": "gnss", "wifi": "wifi", "cell": "cell",
               "network": "cell", "fused": "hybrid", "hybrid": "hybrid"}
_DEGREES = re.compile(r"[+-]?\d{1,3}(\.\d{1,12})?")
_NUMBER = re.compile(r"\d{1,9}(\.\d{1,6})?")
_TOP = re.compile(r"\d{14}")
_DIGITS = re.compile(r"\d{1,16}")


class AmlRefused(ValueError):
    """The message is not a usable AML position; the text says why."""


@dataclass(frozen=True)
class AmlFix:
    lat: float
    lon: float
    radius_m: float | None
    confidence: int | None
    method: str
    at: datetime
    number: str | None = None  # ELS only: the handset's own number, as it sent it


def _degrees(raw: str | None, name: str, limit: float) -> float:
    if raw is None or not _DEGREES.fullmatch(raw):
        raise AmlRefused(f"{name}: not a coordinate")
    value = float(raw)
    if not -limit <= value <= limit:
        raise AmlRefused(f"{name}: out of range")
    return value


def _radius(raw: str | None) -> float | None:
    if raw is None or raw == "":
        return None
    if not _NUMBER.fullmatch(raw) or float(raw) > MAX_RADIUS_M:
        raise AmlRefused("radius: not a distance in metres")
    return float(raw)


def _confidence(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and int(raw) <= 100):
        raise AmlRefused("confidence: not a percentage")
    return int(raw)


def _fields(text: str) -> dict[str, str]:
    """`key=value;...` into a dict; a repeated or empty key refuses the message."""
    fields: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key:
            raise AmlRefused(f"not key=value: {part[:20]!r}")
        if key in fields:
            raise AmlRefused(f"{key} given twice")
        fields[key] = value.strip()
    return fields


def check_length(fields: dict[str, str], text: str) -> None:
    """`ml`, the message's length, comes last: a message cut short has lost it, or part
    of it. Handsets count the length slightly differently (Google's own ELS example
    says 126 for 127 characters), so a difference of up to ML_SLACK is let through."""
    length = fields.get("ml")
    last = list(fields)[-1] if fields else None
    if last != "ml" or not _DIGITS.fullmatch(length or "") or \
            abs(int(length) - len(text)) > ML_SLACK:
        raise AmlRefused("truncated: ml does not match the message's length")


def parse_sms(text: str) -> AmlFix:
    """An ETSI TS 103 625 AML SMS: `A"ML=1;lt=..;lg=..;rd=..;top=..;lc=..;pm=..;si=..;
    ei=..;mcc=..;mnc=..;ml=..`. `ml`, the length of the whole message, comes last: a
    message without it, or shorter than it says, was cut and is refused; so is one
    whose handset found no position (`pm=N`)."""
    if not isinstance(text, str) or len(text) > MAX_SMS:
        raise AmlRefused("not an AML message")
    text = text.strip()
    prefix = next((p for p in SMS_PREFIXES if text.startswith(p)), None)
    if prefix is None:
        raise AmlRefused('not an AML message (A"ML=1;...)')
    fields = _fields("v=" + text[len(prefix):])  # the version is the first value
    if fields.pop("v") != "1":
        raise AmlRefused("only AML version 1 is understood")
    check_length(fields, text)
    method = SMS_METHODS.get(fields.get("pm", "").upper(), "unknown")
    if fields.get("pm", "").upper() == "N" or not (fields.get("lt") or fields.get("lg")):
        raise AmlRefused("the handset found no position")
    top = fields.get("top")
    if top is None or not _TOP.fullmatch(top):
        raise AmlRefused("top: not a time (YYYYMMDDhhmmss)")
    try:
        at = datetime.strptime(top, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        raise AmlRefused("top: not a time (YYYYMMDDhhmmss)") from None
    return AmlFix(lat=_degrees(fields.get("lt"), "lt", 90), lon=_degrees(fields.get("lg"),
                  "lg", 180), radius_m=_radius(fields.get("rd")),
                  confidence=_confidence(fields.get("lc")), method=method, at=at)


def _els_time(raw: str | None) -> datetime:
    """`location_time`: milliseconds since 1970 (seconds are taken too)."""
    if raw is None or not _DIGITS.fullmatch(raw):
        raise AmlRefused("location_time: not a time in milliseconds")
    value = int(raw)
    seconds = value / 1000 if value > 10**11 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise AmlRefused("location_time: out of range") from None


def _els_confidence(raw: str | None) -> int | None:
    """A percentage, or a share (0.68) as some handsets send it."""
    if raw is None or raw == "":
        return None
    if _NUMBER.fullmatch(raw) and float(raw) <= 1 and "." in raw:
        return round(float(raw) * 100)
    return _confidence(raw)


def parse_els(form: Mapping[str, str]) -> AmlFix:
    """The Android ELS HTTPS form: `location_latitude`, `location_longitude`,
    `location_accuracy` (m), `location_time` (ms; without it `time`, the call's start),
    `location_source`, `location_confidence` (0-1), and the handset's `device_number`
    (E.164 as far as the handset knows it). Every field is optional to the handset;
    one missing that a position needs refuses the message."""
    method = ELS_METHODS.get(str(form.get("location_source", "")).strip().lower(), "unknown")
    number = form.get("device_number")
    return AmlFix(lat=_degrees(form.get("location_latitude"), "location_latitude", 90),
                  lon=_degrees(form.get("location_longitude"), "location_longitude", 180),
                  radius_m=_radius(form.get("location_accuracy")),
                  confidence=_els_confidence(form.get("location_confidence")),
                  method=method,
                  at=_els_time(form.get("location_time") or form.get("time")),
                  number=number.strip() if number else None)
