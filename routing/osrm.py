"""Ranking teams with an OSRM server's table service (`DISPATCH112_ROUTER=osrm:URL`).

One request per incident (per CHUNK origins: osrm-routed refuses tables of more than
`--max-table-size` locations, 100 by default), every team a source and the incident the
one destination:

    GET URL/table/v1/driving/LON,LAT;LON,LAT;...?sources=1;2;...&destinations=0
        &annotations=duration,distance

OSRM snaps each position to its nearest road itself. A `null` duration means OSRM
found no road between them: that team gets no route (it never wins by accident), unless
no team at all has one, when distance decides. A request that times out (`timeout_s`,
short: the operator is waiting), answers other than 200 with `code: Ok`, or answers
something that is not a table of the right shape falls back to the geodesic router for
its origins, and the routes say so (`source`).
"""

from __future__ import annotations

import asyncio
import math

import httpx
import structlog

from routing.base import Route
from routing.geo import Position
from routing.geodesic import GeodesicRouter

log = structlog.get_logger(__name__)

TIMEOUT_S = 2.0
CHUNK = 99


class OsrmError(ValueError):
    """The OSRM server did not answer a usable table."""


def _number(value: object) -> float | None:
    """A table cell: a finite non-negative number, or None for OSRM's `null`."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OsrmError(f"not a number: {value!r}")
    if not math.isfinite(value) or value < 0:
        raise OsrmError(f"out of range: {value!r}")
    return float(value)


def parse_table(body: object, count: int) -> list[tuple[float, float] | None]:
    """(seconds, metres) or None per source, from a table answer with one destination."""
    if not isinstance(body, dict) or body.get("code") != "Ok":
        raise OsrmError(f"not an Ok table: {str(body)[:80]!r}")
    durations, distances = body.get("durations"), body.get("distances")
    if not isinstance(durations, list) or not isinstance(distances, list) or not (
            len(durations) == len(distances) == count):
        raise OsrmError("durations and distances are not one row per source")
    cells = []
    for duration, distance in zip(durations, distances, strict=True):
        if not (isinstance(duration, list) and isinstance(distance, list)
                and len(duration) == len(distance) == 1):
            raise OsrmError("a row is not one cell")
        seconds, metres = _number(duration[0]), _number(distance[0])
        cells.append(None if seconds is None or metres is None else (seconds, metres))
    return cells


class OsrmRouter:
    name = "osrm"

    def __init__(self, base_url: str, *, timeout_s: float = TIMEOUT_S,
                 chunk: int = CHUNK) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.chunk = chunk
        self.fallback = GeodesicRouter()
        self._client: httpx.AsyncClient | None = None

    def _url(self, origins: list[Position], destination: Position) -> str:
        places = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in [destination, *origins])
        sources = ";".join(str(i) for i in range(1, len(origins) + 1))
        return (f"{self.base_url}/table/v1/driving/{places}?sources={sources}"
                "&destinations=0&annotations=duration,distance")

    async def _table(self, origins: list[Position],
                     destination: Position) -> list[tuple[float, float] | None] | None:
        """The table for one chunk of origins, or None when the server failed."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s)
        try:
            response = await self._client.get(self._url(origins, destination))
            if response.status_code != 200:
                raise OsrmError(f"HTTP {response.status_code}")
            return parse_table(response.json(), len(origins))
        except (httpx.HTTPError, OsrmError, ValueError) as exc:
            log.warning("osrm.failed", error=f"{type(exc).__name__}: {exc}"[:200],
                        origins=len(origins))
            return None

    async def routes(self, origins: list[Position], destination: Position) -> list[Route | None]:
        if not origins:
            return []
        chunks = [origins[i:i + self.chunk] for i in range(0, len(origins), self.chunk)]
        tables = await asyncio.gather(*(self._table(c, destination) for c in chunks))
        found: list[Route | None] = []
        for chunk, table in zip(chunks, tables, strict=True):
            if table is None:
                found.extend(await self.fallback.routes(chunk, destination))
                continue
            found.extend(None if cell is None else
                         Route(eta_s=round(cell[0]), distance_m=round(cell[1]), source="osrm")
                         for cell in table)
        if all(route is None for route in found):  # no team has a road there
            return await self.fallback.routes(origins, destination)
        return found

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
