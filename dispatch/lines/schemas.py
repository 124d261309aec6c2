"""Request bodies of the lines: a line with its probe, the override."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from dispatch.lines.probes import HEARTBEAT_TIMEOUT_S, Probe
from dispatch.schemas import Body, Id, Text

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
    port: Annotated[int, Field(strict=True, ge=1, le=65535)] = Probe.port
    interval_s: Annotated[float, Field(strict=True, ge=0.1, le=3600)] = Probe.interval_s
    timeout_s: Seconds = Probe.timeout_s
    fail_after: Count = Probe.fail_after
    recover_after: Count = Probe.recover_after


class HeartbeatProbeIn(ProbeBody):
    """The telephony gateway posts heartbeats; silence over `timeout_s` is a failure."""

    kind: Literal["heartbeat"]
    timeout_s: Annotated[float, Field(strict=True, ge=0.2, le=86400)] = HEARTBEAT_TIMEOUT_S


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
