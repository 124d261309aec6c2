"""A line's probe, read from the JSON stored with the line (validated on the way in by
dispatch/schemas.py; read defensively here, since the demo and older rows write it too).

Heartbeat lines are not asked anything: the telephony gateway posts heartbeats and
the monitor looks, every `interval_s`, whether the last one is younger than
`timeout_s`. One stale look takes the line down and one fresh look brings it back:
the timeout already is the tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("sip_options", "heartbeat", "none")
DEFAULT_SIP_PORT = 5060
# How often a heartbeat line is looked at, as a fraction of its timeout: silence is
# noticed at most timeout_s / 4 late.
HEARTBEAT_LOOKS_PER_TIMEOUT = 4
MIN_INTERVAL_S = 0.05


@dataclass(frozen=True)
class Probe:
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
    kind = stored.get("kind") if stored.get("kind") in KINDS else "none"
    if kind == "heartbeat":
        timeout_s = float(stored.get("timeout_s", 30.0))
        look = max(MIN_INTERVAL_S, min(poll_s, timeout_s / HEARTBEAT_LOOKS_PER_TIMEOUT))
        return Probe("heartbeat", interval_s=look, timeout_s=timeout_s, fail_after=1,
                     recover_after=1)
    if kind == "sip_options":
        return Probe("sip_options", host=str(stored.get("host", "")),
                     port=int(stored.get("port", DEFAULT_SIP_PORT)),
                     interval_s=max(MIN_INTERVAL_S, float(stored.get("interval_s", 10.0))),
                     timeout_s=float(stored.get("timeout_s", 2.0)),
                     fail_after=int(stored.get("fail_after", 3)),
                     recover_after=int(stored.get("recover_after", 2)))
    return Probe("none", fail_after=1, recover_after=1)
