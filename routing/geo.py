"""Coordinates (WGS 84) and the few operations on them the service needs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from geopy.distance import geodesic


@dataclass(frozen=True)
class Position:
    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0) or not (-180.0 <= self.lon <= 180.0):
            raise ValueError(f"position out of range: {self.lat}, {self.lon}")


def geodesic_m(a: Position, b: Position) -> float:
    """Shortest distance on the WGS 84 ellipsoid, in metres."""
    return geodesic((a.lat, a.lon), (b.lat, b.lon)).meters


# WGS 84, the ellipsoid geopy's geodesic uses.
WGS84_A = 6378137.0
WGS84_F = 1 / 298.257223563
WGS84_B = WGS84_A * (1 - WGS84_F)
VINCENTY_ITERATIONS = 50


def geodesic_m_many(lat1, lon1, lat2, lon2):
    """Geodesic distances in metres between arrays of points (numpy broadcasting):
    Vincenty's inverse formula on WGS 84, within a millimetre of `geodesic_m` (Karney)
    for points that are not nearly antipodal, which a city never has. It exists for
    the planner, which needs millions of distances where the live service needs a
    handful: a pure-Python geodesic costs ~80 µs a pair."""
    import numpy as np
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    big_l = np.radians(np.asarray(lon2, dtype=float) - lon1)
    u1, u2 = np.arctan((1 - WGS84_F) * np.tan(phi1)), np.arctan((1 - WGS84_F) * np.tan(phi2))
    sin_u1, cos_u1, sin_u2, cos_u2 = np.sin(u1), np.cos(u1), np.sin(u2), np.cos(u2)
    lam = big_l
    for _ in range(VINCENTY_ITERATIONS):
        sin_lam, cos_lam = np.sin(lam), np.cos(lam)
        sin_sigma = np.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
        sigma = np.arctan2(sin_sigma, cos_sigma)
        safe_sin = np.where(sin_sigma == 0, 1.0, sin_sigma)
        sin_alpha = np.where(sin_sigma == 0, 0.0, cos_u1 * cos_u2 * sin_lam / safe_sin)
        cos2_alpha = 1 - sin_alpha ** 2
        safe_cos2 = np.where(cos2_alpha == 0, 1.0, cos2_alpha)
        cos_2sm = np.where(cos2_alpha == 0, 0.0,
                           cos_sigma - 2 * sin_u1 * sin_u2 / safe_cos2)
        c = WGS84_F / 16 * cos2_alpha * (4 + WGS84_F * (4 - 3 * cos2_alpha))
        previous = lam
        lam = big_l + (1 - c) * WGS84_F * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm ** 2)))
        if np.all(np.abs(lam - previous) < 1e-12):
            break
    u_sq = cos2_alpha * (WGS84_A ** 2 - WGS84_B ** 2) / WGS84_B ** 2
    a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta = b * sin_sigma * (cos_2sm + b / 4 * (
        cos_sigma * (-1 + 2 * cos_2sm ** 2)
        - b / 6 * cos_2sm * (-3 + 4 * sin_sigma ** 2) * (-3 + 4 * cos_2sm ** 2)))
    return WGS84_B * a * (sigma - delta)


def vincenty_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """`geodesic_m_many` for one pair, in plain floats: the same formula without
    numpy's cost per call (~15 µs instead of ~200 µs), for the planner's few
    teams driving back when a call comes."""
    u1 = math.atan((1 - WGS84_F) * math.tan(math.radians(lat1)))
    u2 = math.atan((1 - WGS84_F) * math.tan(math.radians(lat2)))
    big_l = math.radians(lon2 - lon1)
    sin_u1, cos_u1, sin_u2, cos_u2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    lam = big_l
    for _ in range(VINCENTY_ITERATIONS):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
        if sin_sigma == 0:
            return 0.0
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cos_u1 * cos_u2 * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha ** 2
        cos_2sm = cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha if cos2_alpha else 0.0
        c = WGS84_F / 16 * cos2_alpha * (4 + WGS84_F * (4 - 3 * cos2_alpha))
        previous = lam
        lam = big_l + (1 - c) * WGS84_F * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm ** 2)))
        if abs(lam - previous) < 1e-12:
            break
    u_sq = cos2_alpha * (WGS84_A ** 2 - WGS84_B ** 2) / WGS84_B ** 2
    a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta = b * sin_sigma * (cos_2sm + b / 4 * (
        cos_sigma * (-1 + 2 * cos_2sm ** 2)
        - b / 6 * cos_2sm * (-3 + 4 * sin_sigma ** 2) * (-3 + 4 * cos_2sm ** 2)))
    return WGS84_B * a * (sigma - delta)
