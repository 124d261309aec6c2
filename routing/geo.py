"""Coordinates (WGS 84) and the few operations on them the service needs."""

from __future__ import annotations

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
