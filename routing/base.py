"""The interface every router implements: ETAs from many origins to one destination."""

from __future__ import annotations

from typing import NamedTuple, Protocol

from routing.geo import Position


class Route(NamedTuple):
    """Travel from one origin to the destination; `source` names the router that
    computed it (`osm`, `osrm`, `geodesic`: a road router falls back to geodesic where
    it cannot answer), which every assignment records as its `eta_source`. A named
    tuple: routers make a thousand of them per incident, at a fifth of a frozen
    dataclass's cost."""

    eta_s: int
    distance_m: int
    source: str = "geodesic"


class Router(Protocol):
    """Ranks candidate teams. `routes` returns one Route per origin, in the same order;
    None for an origin it cannot reach (the caller then skips that team)."""

    name: str

    async def routes(self, origins: list[Position], destination: Position) -> list[Route | None]:
        ...
