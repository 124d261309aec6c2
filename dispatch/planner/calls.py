"""The calls of one replication, drawn before the simulation runs: when, where, how
urgent, and every duration they will take.

Everything random about a call is drawn here, from a generator seeded by (seed,
replication) alone, and nothing random is drawn while simulating. So scenarios that
differ only in their teams see the very same calls (common random numbers): their
differences are paired, replication by replication.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dispatch.planner.demand import Demand
from dispatch.planner.scenario import Distribution, Scenario
from dispatch.vocabulary import KINDS_FOR

MINUTES_PER_DAY = 24 * 60
STREAMS = 9
# Which team kinds may answer a call of each required kind (as live allocation).
FITTING_KINDS = {"any": frozenset(KINDS_FOR[None]), "als": frozenset(KINDS_FOR["als"]),
                 "bls": frozenset(KINDS_FOR["bls"]),
                 "motorbike": frozenset(KINDS_FOR["motorbike"])}


@dataclass(frozen=True)
class Calls:
    """One replication's calls in time order; times in minutes from Monday 00:00 local
    time of the first (warm-up) day."""

    at: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    area: np.ndarray
    priority: np.ndarray
    kinds: list[frozenset[str]]
    call_processing: np.ndarray
    turnout: np.ndarray
    on_scene: np.ndarray
    transport: np.ndarray
    handover: np.ndarray

    def __len__(self) -> int:
        return len(self.at)


def draw(dist: Distribution, rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` durations in minutes. A lognormal's mean and sd are those of the time:
    sigma² = ln(1 + sd²/mean²), mu = ln(mean) - sigma²/2."""
    if dist.dist == "fixed" or (dist.dist == "lognormal" and dist.sd == 0):
        return np.full(count, dist.mean)
    if dist.dist == "exponential":
        return rng.exponential(dist.mean, count)
    sigma2 = np.log1p((dist.sd / dist.mean) ** 2)
    return rng.lognormal(np.log(dist.mean) - sigma2 / 2, np.sqrt(sigma2), count)


def _arrivals(scenario: Scenario, rng: np.random.Generator) -> np.ndarray:
    """Poisson arrivals, the rate constant within each hour (its weekday's and hour's)."""
    hours = (scenario.warmup_days + scenario.days) * 24
    table = np.asarray(scenario.rate_table())
    slot = np.arange(hours)
    rates = table[(slot // 24) % 7, slot % 24]
    counts = rng.poisson(rates)
    starts = np.repeat(slot * 60.0, counts)
    return np.sort(starts + rng.random(len(starts)) * 60.0)


def _choice(rng: np.random.Generator, shares: dict, count: int) -> list:
    keys = list(shares)
    picked = rng.choice(len(keys), size=count, p=np.asarray(list(shares.values())))
    return [keys[i] for i in picked]


def draw_calls(scenario: Scenario, demand: Demand, replication: int) -> Calls:
    """The calls of `replication` (0-based) of the scenario's seed. Each attribute has a
    stream of its own, so that changing one distribution leaves the others' draws as
    they were."""
    streams = [np.random.default_rng(child) for child in
               np.random.SeedSequence([scenario.seed, replication]).spawn(STREAMS)]
    at = _arrivals(scenario, streams[0])
    count = len(at)
    lat, lon, area = demand.sample(streams[1], count)
    priority = np.array([int(p) for p in _choice(streams[2], scenario.priorities, count)],
                        dtype=int)
    kinds = [FITTING_KINDS[k] for k in _choice(streams[3], scenario.required_kinds, count)]
    return Calls(at=at, lat=lat, lon=lon, area=area, priority=priority, kinds=kinds,
                 call_processing=draw(scenario.call_processing_min, streams[4], count),
                 turnout=draw(scenario.turnout_min, streams[5], count),
                 on_scene=draw(scenario.on_scene_min, streams[6], count),
                 transport=streams[7].random(count) < scenario.transport_share,
                 handover=draw(scenario.handover_min, streams[8], count))
