"""The model of a plausible past: how many calls and incidents, when, and how long each
step takes. Every rate and distribution of the generator is declared here.

Durations are lognormal (a median and a sigma, clamped to a plausible range): step
times of emergency services are right-skewed, most quick and a few very slow.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

# --- volume -----------------------------------------------------------------------------
# Incidents a day for a city of ~160,000 (a few to about ten): about 14 a year per
# thousand inhabitants, the order of an Indonesian city's 112 health line in its first
# years.
DAILY_RATE = 6.0
# A day's rate is DAILY_RATE x a gamma factor of mean 1 (shape 8: a spread of ~35 %),
# so that quiet and busy days occur, as on the real line, not a Poisson-flat series.
DAY_FACTOR_SHAPE = 8.0
# Monday first: a little more on Friday and Saturday evenings (traffic, gatherings).
WEEKDAY_FACTOR = (1.0, 0.97, 0.97, 1.0, 1.06, 1.1, 0.95)
# Relative rate of each local hour, 00-23: low before dawn, high in the day and evening.
HOURLY = (0.45, 0.35, 0.30, 0.30, 0.35, 0.50, 0.80, 1.10, 1.30, 1.35, 1.35, 1.30,
          1.25, 1.20, 1.20, 1.20, 1.25, 1.30, 1.35, 1.30, 1.10, 0.90, 0.70, 0.55)

# --- what is called in ------------------------------------------------------------------
PRIORITY_SHARES = ((1, 0.25), (2, 0.45), (3, 0.30))
# What an incident asks for (None: any ambulance; "motorbike": a motorbike may go).
REQUIRED_KIND_SHARES = {1: (("als", 0.3), (None, 0.7)), 2: ((None, 1.0),),
                        3: (("motorbike", 0.25), (None, 0.75))}
COMPLAINTS = {
    1: ("Tidak sadar", "Nyeri dada", "Sesak napas berat", "Stroke", "Kejang",
        "Kecelakaan lalu lintas, luka berat", "Perdarahan hebat"),
    2: ("Sesak napas", "Kecelakaan lalu lintas", "Persalinan", "Jatuh / patah tulang",
        "Luka bakar", "Keracunan", "Kejang", "Nyeri perut hebat"),
    3: ("Demam tinggi (anak)", "Jatuh, luka ringan", "Muntah dan diare", "Pusing, lemas",
        "Luka robek ringan", "Lainnya"),
}
# Share of incidents taken to hospital, by priority (about 65 % overall).
TRANSPORT_SHARE = {1: 0.9, 2: 0.75, 3: 0.4}
CANCEL_SHARE = 0.05
CANCEL_REASONS = ("Pasien dibawa keluarga ke RS", "Penelepon membatalkan",
                  "Pasien menolak dibawa", "Pasien sudah ditangani puskesmas")
# Assignments not acknowledged in time: withdrawn, and the next nearest team sent.
ACK_TIMEOUT_SHARE = 0.03
# A second caller about the same emergency (disposition `duplicate`), attached to it.
DUPLICATE_CALL_SHARE = 0.1
# Calls that are no emergency, a day on average: the line's everyday noise, every
# disposition but `incident` and `duplicate`. With ~6 incidents and their duplicates
# the line takes ~24 calls a day, of which about a quarter became incidents and about
# 23 % were pranks, the order Indonesian 112 centres report (most of their calls are
# pranks, silent or wrong numbers; a health line gets more requests for information).
OTHER_CALLS_PER_DAY = (("prank", 5.5), ("info", 4.0), ("wrong_number", 2.5),
                       ("silent", 2.5), ("dropped", 1.5), ("other", 0.8), ("test", 0.4))
# Silent calls from a handset without a SIM or with the number withheld: no number.
WITHHELD_SHARE = {"silent": 0.3, "prank": 0.05}
# Failovers of the 112 line to its backup: about two a month.
FAILOVERS_PER_DAY = 1 / 15
# Calls open on the primary when it fails beside any real one (then called back).
CALLS_CAUGHT_BY_FAILOVER = ((0, 0.2), (1, 0.55), (2, 0.25))

# --- travel -----------------------------------------------------------------------------
# Kecamatan in the hills east of the city: slower roads, more detours.
HILLY = frozenset({"Bacukiki"})
HILLY_SPEED_FACTOR = 0.72
# Some trips are much slower: traffic on Jl. Bau Massepe, a house not found, rain.
SLOW_TRIP_SHARE = 0.06
SLOW_TRIP_SHARE_HILLY = 0.18
SLOW_TRIP_FACTOR = (1.6, 3.0)
HOSPITAL = "RSUD Andi Makkasau"


@dataclass(frozen=True)
class Lognormal:
    """A duration in seconds: `median` x exp(sigma x N(0, 1)), clamped to [low, high]."""

    median: float
    sigma: float
    low: float
    high: float

    def draw(self, rng: random.Random) -> float:
        value = self.median * math.exp(self.sigma * rng.gauss(0.0, 1.0))
        return min(max(value, self.low), self.high)


MINUTE = 60.0
# Call received -> incident stored (asking, locating, triaging): ~1-2 min.
CALL_PROCESSING = Lognormal(80, 0.35, 25, 10 * MINUTE)
# Incident stored -> team assigned when one is free (the allocating transaction).
ALLOCATION_LAG = (0.2, 1.5)
# A queued incident waits for the next sweep (every 2 s) once a team is free.
SWEEP_S = 2.0
ACK = Lognormal(25, 0.45, 4, 10 * MINUTE)  # clamped below the ack timeout by the caller
TURNOUT = Lognormal(80, 0.45, 15, 10 * MINUTE)
SPEED_KMH = Lognormal(34, 0.18, 15, 60)  # with lights and siren in city traffic
ARRIVAL_OVERHEAD = Lognormal(45, 0.5, 10, 5 * MINUTE)  # parking, finding the door
ON_SCENE = Lognormal(15 * MINUTE, 0.4, 4 * MINUTE, 60 * MINUTE)
TREATED_ON_SCENE = Lognormal(20 * MINUTE, 0.4, 5 * MINUTE, 75 * MINUTE)
TRANSPORT_SPEED_KMH = Lognormal(38, 0.15, 20, 60)
HANDOVER = Lognormal(15 * MINUTE, 0.45, 3 * MINUTE, 90 * MINUTE)
# A team that let an assignment time out is out of service until an operator reaches it.
OUT_OF_SERVICE = Lognormal(20 * MINUTE, 0.5, 5 * MINUTE, 2 * 60 * MINUTE)
# The caller stays on the line for first-aid advice after the incident is stored.
CALL_AFTER_INCIDENT = Lognormal(90, 0.6, 10, 15 * MINUTE)
CALL_LENGTH = {"info": Lognormal(120, 0.5, 20, 15 * MINUTE),
               "prank": Lognormal(25, 0.6, 3, 5 * MINUTE),
               "dropped": Lognormal(12, 0.6, 1, 2 * MINUTE),
               "wrong_number": Lognormal(15, 0.5, 3, 2 * MINUTE),
               "silent": Lognormal(20, 0.5, 5, 2 * MINUTE),
               "test": Lognormal(30, 0.4, 10, 3 * MINUTE),
               "other": Lognormal(90, 0.6, 15, 10 * MINUTE),
               "duplicate": Lognormal(60, 0.5, 10, 10 * MINUTE)}
DUPLICATE_AFTER = Lognormal(4 * MINUTE, 0.6, 30, 20 * MINUTE)
FAILOVER_DOWN = Lognormal(6 * MINUTE, 0.6, 2 * MINUTE, 45 * MINUTE)
CALLBACK_AFTER = Lognormal(4 * MINUTE, 0.6, 30, 40 * MINUTE)
CAUGHT_CALL_OPEN_FOR = (5.0, 120.0)  # how long a caught call had been open at the failure

# Indonesian mobile prefixes (Telkomsel, Indosat, XL, Tri, Smartfren).
MOBILE_PREFIXES = ("811", "812", "813", "821", "822", "823", "852", "853", "814", "815",
                   "816", "855", "856", "857", "858", "817", "818", "819", "859", "877",
                   "878", "895", "896", "897", "898", "899", "881", "882", "888")


def pick(rng: random.Random, shares: tuple) -> object:
    """One value of (value, share) pairs, drawn by share."""
    values, weights = zip(*shares, strict=True)
    return rng.choices(values, weights)[0]


def poisson(rng: random.Random, rate: float) -> int:
    """A Poisson count of mean `rate` (unit-rate exponential gaps fitting in `rate`)."""
    count, elapsed = 0, rng.expovariate(1.0)
    while elapsed < rate:
        count += 1
        elapsed += rng.expovariate(1.0)
    return count


def day_rate(rng: random.Random, weekday: int, daily_rate: float) -> float:
    """Expected incidents on one day (weekday 0 = Monday)."""
    factor = rng.gammavariate(DAY_FACTOR_SHAPE, 1 / DAY_FACTOR_SHAPE)
    return daily_rate * factor * WEEKDAY_FACTOR[weekday]


def caller_number(rng: random.Random) -> str:
    """An Indonesian mobile number in E.164, as the service stores callers."""
    return f"+62{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**7, 10**8)}"


def address(rng: random.Random, kelurahan: str) -> str:
    """An address at the level operators note it: RT/RW and kelurahan."""
    return f"RT {rng.randint(1, 8):03d}/RW {rng.randint(1, 6):03d}, Kel. {kelurahan}"


def travel_s(rng: random.Random, distance_m: float, hilly: bool) -> float:
    """Seconds from leaving to arriving, over `distance_m` of road: lognormal speed,
    slower in the hills, now and then a much slower trip, plus parking and finding."""
    speed = SPEED_KMH.draw(rng) * (HILLY_SPEED_FACTOR if hilly else 1.0) / 3.6
    seconds = distance_m / speed
    if rng.random() < (SLOW_TRIP_SHARE_HILLY if hilly else SLOW_TRIP_SHARE):
        seconds *= rng.uniform(*SLOW_TRIP_FACTOR)
    return seconds + ARRIVAL_OVERHEAD.draw(rng)


def transport_s(rng: random.Random, distance_m: float) -> float:
    """Seconds from the scene to the hospital's door."""
    return distance_m / (TRANSPORT_SPEED_KMH.draw(rng) / 3.6) + 30.0
