"""Means and 95 % confidence intervals over replications (Student's t), paired
differences, and the fractiles of response times."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# Two-sided 95 % quantiles of Student's t by degrees of freedom; beyond the table the
# normal's 1.96 is within 0.5 % of t.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131,
        16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074,
        23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045,
        30: 2.042, 40: 2.021, 60: 2.000, 80: 1.990, 100: 1.984, 120: 1.980, 200: 1.972,
        500: 1.965}
FRACTILE_MINUTES = range(1, 31)


def t975(df: int) -> float:
    """The 97.5 % quantile of t with `df` degrees of freedom (the next tabled df down,
    which errs on the wide side)."""
    if df < 1:
        raise ValueError("a confidence interval needs two replications")
    return T975[max(k for k in T975 if k <= df)] if df <= 500 else 1.96


def interval(values: Sequence[float], bounds: tuple[float, float] | None = None) -> dict:
    """{"mean", "ci95": [lo, hi]} of per-replication values (NaN values, from a
    replication without any call, are left out; none left: nulls). `bounds` clip the
    interval to what the quantity can be (a share: 0..1)."""
    data = np.asarray([v for v in values if not math.isnan(v)], dtype=float)
    if len(data) == 0:
        return {"mean": None, "ci95": [None, None]}
    mean = float(data.mean())
    if len(data) < 2:
        return {"mean": mean, "ci95": [mean, mean]}
    half = t975(len(data) - 1) * float(data.std(ddof=1)) / math.sqrt(len(data))
    lo, hi = mean - half, mean + half
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return {"mean": mean, "ci95": [lo, hi]}


def fractiles(responses: np.ndarray) -> list[dict]:
    """Share of responses within M minutes, M = 1..30 (as the reports' fractile table)."""
    if len(responses) == 0:
        return [{"minutes": m, "share": None} for m in FRACTILE_MINUTES]
    return [{"minutes": m, "share": float(np.mean(responses <= m))} for m in FRACTILE_MINUTES]
