"""A line's probe, read from the JSON stored with the line (validated on the way in by
dispatch/schemas.py; read defensively here, since the demo and older rows write it too).

Heartbeat lines are not asked anything: the telephony gateway posts heartbeats and
the monitor looks, every `interval_s`, whether the last one is younger than
`timeout_s`. One stale look takes the line down and one fresh look brings it back:
the timeout already is the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.vocabulary import PROBE_KINDS

DEFAULT_SIP_PORT = 5060
# How often a heartbeat line is looked at, as a fraction of its timeout: silence is
# noticed at most timeout_s / 4 late.
HEARTBEAT_LOOKS_PER_TIMEOUT = 4
MIN_INTERVAL_S = 0.05
HEARTBEAT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Probe:
    """A line's probe. The defaults are those of the API (dispatch/lines/schemas.py
    reads them from here) and of rows stored without them."""

    kind: str
    host: str = ""
    port: int = DEFAULT_SIP_PORT
    interval_s: float = 10.0
    timeout_s: float = 2.0
    fail_after: int = 3
    recover_after: int = 2

    @property
    def monitored(self) -> bool:
        """Whether the monitor runs a loop for this line (`none` lines are assumed up)."""
        return self.kind in ("sip_options", "heartbeat")


def get_probe(stored: dict | None, poll_s: float) -> Probe:
    """The probe of a line from its stored JSON; an unknown kind reads as `none`.
    `poll_s` bounds how rarely a heartbeat line is looked at."""
    stored = stored or {}
    kind = stored.get("kind") if stored.get("kind") in PROBE_KINDS else "none"
    if kind == "heartbeat":
        timeout_s = float(stored.get("timeout_s", HEARTBEAT_TIMEOUT_S))
        look = max(MIN_INTERVAL_S, min(poll_s, timeout_s / HEARTBEAT_LOOKS_PER_TIMEOUT))
        return Probe("heartbeat", interval_s=look, timeout_s=timeout_s, fail_after=1,
                     recover_after=1)
    if kind == "sip_options":
        return Probe("sip_options", host=str(stored.get("host", "")),
                     port=int(stored.get("port", Probe.port)),
                     interval_s=max(MIN_INTERVAL_S,
                                    float(stored.get("interval_s", Probe.interval_s))),
                     timeout_s=float(stored.get("timeout_s", Probe.timeout_s)),
                     fail_after=int(stored.get("fail_after", Probe.fail_after)),
                     recover_after=int(stored.get("recover_after", Probe.recover_after)))
    return Probe("none", fail_after=1, recover_after=1)
