"""A token bucket per key (a team's phone), in this instance's memory.

A phone that floods the service (a bug, a stuck retry loop, a stolen token) costs
every other caller: each step and fix writes, and each fix is pushed to every
dashboard. Beyond a burst, `rate_per_s` requests a second are let through and the
rest refused with 429 and Retry-After. Per instance: with N instances behind a
balancer a phone gets at most N times the rate, which is still bounded.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

MAX_KEYS = 100_000


@dataclass
class RateLimiter:
    rate_per_s: float
    burst: int
    _buckets: dict[object, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: object, now: float | None = None) -> float:
        """Spend one token of `key`'s bucket: 0 when allowed, else the seconds until a
        token is back (the caller refuses with Retry-After)."""
        now = time.monotonic() if now is None else now
        tokens, then = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.rate_per_s)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate_per_s
        if len(self._buckets) >= MAX_KEYS and key not in self._buckets:
            self._buckets.clear()  # bounded memory; a full bucket is the default anyway
        self._buckets[key] = (tokens - 1.0, now)
        return 0.0

    def retry_after_s(self, key: object) -> int:
        """0 when allowed (a token was spent), else whole seconds to wait."""
        wait = self.take(key)
        return math.ceil(wait) if wait else 0
