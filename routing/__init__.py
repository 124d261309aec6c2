"""Geography: positions, distances and the routers that rank teams by ETA."""

from routing.base import Route, Router
from routing.geo import Position
from routing.geodesic import GeodesicRouter


class UnknownRouter(ValueError):
    """DISPATCH112_ROUTER names a router this build does not have."""


def get_router(spec: str) -> Router:
    """Router for a DISPATCH112_ROUTER value: `geodesic` (others plug in here)."""
    if spec == "geodesic":
        return GeodesicRouter()
    raise UnknownRouter(f"unknown router {spec!r}; available: geodesic")


__all__ = ["GeodesicRouter", "Position", "Route", "Router", "UnknownRouter", "get_router"]
