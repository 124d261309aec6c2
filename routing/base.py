"""The interface every router implements: ETAs from many origins to one destination."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from routing.geo import Position


@dataclass(frozen=True)
class Route:
    """Travel from one origin to the destination; `source` names the router that
    computed it (`osm`, `osrm`, `geodesic`: a road router falls back to geodesic where
    it cannot answer), which every assignment records as its `eta_source`."""

    eta_s: int
    distance_m: int
    source: str = "geodesic"


class Router(Protocol):
    """Ranks candidate teams. `routes` returns one Route per origin, in the same order;
    None for an origin it cannot reach (the caller then skips that team)."""

    name: str

    async def routes(self, origins: list[Position], destination: Position) -> list[Route | None]:
        ...
