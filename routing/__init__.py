"""Geography: positions, distances and the routers that rank teams by ETA."""

from routing.base import Route, Router
from routing.geo import Position
from routing.geodesic import GeodesicRouter

ROUTER_NAMES = ("geodesic", "osm", "osrm")


class UnknownRouter(ValueError):
    """DISPATCH112_ROUTER names a router this build does not have."""


def check_router_spec(spec: str) -> str:
    """`spec` if it reads `geodesic`, `osm:PATH` or `osrm:http(s)://...`; else
    UnknownRouter naming what is accepted. Touches no file and no network."""
    kind, colon, rest = spec.partition(":")
    ok = (spec == "geodesic"
          or kind == "osm" and colon and rest.strip()
          or kind == "osrm" and rest.lower().startswith(("http://", "https://")))
    if not ok:
        raise UnknownRouter(f"unknown router {spec!r}; use geodesic, osm:PATH "
                            "(an OpenStreetMap extract) or osrm:http://HOST:PORT")
    return spec


def get_router(spec: str) -> Router:
    """Router for a DISPATCH112_ROUTER value. `osm:PATH` returns a router whose graph is
    loaded by `await router.prepare()` (the service does it before serving)."""
    check_router_spec(spec)
    kind, _, rest = spec.partition(":")
    if kind == "osm":
        from routing.roads.router import OsmRouter
        return OsmRouter(rest.strip())
    if kind == "osrm":
        from routing.osrm import OsrmRouter
        return OsrmRouter(rest)
    return GeodesicRouter()


async def prepare_router(router: Router) -> None:
    """Let a router load what it needs before serving (the road graph, in a worker
    thread); routers with nothing to load have no `prepare`."""
    prepare = getattr(router, "prepare", None)
    if prepare is not None:
        await prepare()


async def close_router(router: Router) -> None:
    """Release a router's connections (OSRM's HTTP client), if it holds any."""
    close = getattr(router, "close", None)
    if close is not None:
        await close()


__all__ = ["ROUTER_NAMES", "GeodesicRouter", "Position", "Route", "Router", "UnknownRouter",
           "check_router_spec", "close_router", "get_router", "prepare_router"]
