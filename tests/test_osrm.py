"""The OSRM router (`DISPATCH112_ROUTER=osrm:URL`) against a stand-in OSRM server on
loopback that answers the table service from the synthetic extract of test_roads.py;
a server that times out, fails or answers garbage leaves the geodesic estimate, and
the assignment says so."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from dispatch.config import Settings
from routing import Position
from routing.osrm import OsrmError, OsrmRouter, parse_table
from routing.roads.router import OsmRouter
from tests.roads_support import place
from tests.support import Api
from tests.test_roads import RIVER, SPEED_MS, TOLERANCE, draw_city


@dataclass
class StandIn:
    """A loopback HTTP server speaking OSRM's table service; `mode` picks its answer:
    ok, slow (never answers), error (500), garbage (not JSON), short (a row missing)."""

    router: OsmRouter
    mode: str = "ok"
    requests: list[str] = field(default_factory=list)
    url: str = ""

    async def table(self, target: str) -> dict:
        parts = urlsplit(target)
        places = parts.path.removeprefix("/table/v1/driving/").split(";")
        points = [Position(float(lat), float(lon))
                  for lon, lat in (p.split(",") for p in places)]
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        sources = [int(i) for i in query["sources"].split(";")]
        destination = points[int(query["destinations"])]
        found = await self.router.routes([points[i] for i in sources], destination)
        return {"code": "Ok",
                "durations": [[None if r is None else float(r.eta_s)] for r in found],
                "distances": [[None if r is None else float(r.distance_m)] for r in found]}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = (await reader.readuntil(b"\r\n\r\n")).decode()
            target = request.split(" ", 2)[1]
            self.requests.append(target)
            status, body = "200 OK", b""
            if self.mode == "slow":
                await reader.read()  # until the client gives up and closes
                return
            if self.mode == "error":
                status, body = "500 Internal Server Error", b'{"code":"InternalError"}'
            elif self.mode == "garbage":
                body = b"<html>not a table{"
            else:
                table = await self.table(target)
                if self.mode == "short":
                    table["durations"].pop()
                body = json.dumps(table).encode()
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                         + body)
            await writer.drain()
        finally:
            writer.close()


@pytest.fixture(scope="module")
def extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return draw_city().write(tmp_path_factory.mktemp("osrm") / "city.osm")


@pytest.fixture
async def osrm(extract: Path) -> AsyncIterator[StandIn]:
    router = OsmRouter(extract)
    await router.prepare()
    stand_in = StandIn(router)
    server = await asyncio.start_server(stand_in.handle, "127.0.0.1", 0)
    stand_in.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    yield stand_in
    server.close()


@pytest.fixture
def settings(settings: Settings, osrm: StandIn) -> Settings:
    return replace(settings, router=f"osrm:{osrm.url}")


async def _river(api: Api) -> tuple[dict, dict, dict]:
    """OPPOSITE: 300 m across the river, 4,300 m by the bridge; BANK: 1,200 m down
    the same bank. The incident's answer, and the two teams."""
    opposite = await api.team("OPPOSITE", *place(0, 300, RIVER))
    bank = await api.team("BANK", *place(1200, 0, RIVER))
    body = (await api.incident(*place(0, 0, RIVER))).json()
    return body, opposite, bank


async def test_the_table_service_ranks_by_road(api: Api, osrm: StandIn) -> None:
    body, _, bank = await _river(api)
    assignment = body["assignment"]
    assert assignment["team_id"] == bank["id"]
    assert assignment["eta_source"] == "osrm"
    assert assignment["eta_s"] == pytest.approx(1200 / SPEED_MS, rel=TOLERANCE, abs=2)
    # One request: the incident first, both teams as sources, the incident the one
    # destination, durations and distances.
    [target] = osrm.requests
    query = parse_qs(urlsplit(target).query)
    assert query["sources"] == ["1;2"] and query["destinations"] == ["0"]
    assert query["annotations"] == ["duration,distance"]
    detail = (await api.get(f"/api/v1/incidents/{body['id']}")).json()
    assert detail["assignment"]["eta_source"] == "osrm"


@pytest.mark.parametrize("mode", ["slow", "error", "garbage", "short"])
async def test_a_failing_server_leaves_the_geodesic_estimate(api: Api, osrm: StandIn,
                                                             mode: str) -> None:
    osrm.mode = mode
    body, opposite, _ = await _river(api)
    # Across the water is nearer in a straight line: without roads it goes, and the
    # assignment records that its ETA is geodesic.
    assert body["assignment"]["team_id"] == opposite["id"]
    assert body["assignment"]["eta_source"] == "geodesic"
    assert len(osrm.requests) == 1


async def test_table_cells_and_a_server_that_is_not_there() -> None:
    """OSRM's null (no road between them) is no route; all null: distance decides."""
    assert parse_table({"code": "Ok", "durations": [[60.5], [None]],
                        "distances": [[700.0], [None]]}, 2) == [(60.5, 700.0), None]
    for bad in ({"code": "NoTable"}, {"code": "Ok", "durations": [[1]], "distances": [[1]]},
                {"code": "Ok", "durations": [[-1], [1]], "distances": [[1], [1]]},
                {"code": "Ok", "durations": [["1"], [1]], "distances": [[1], [1]]},
                [1, 2]):
        with pytest.raises(OsrmError):
            parse_table(bad, 2)
    router = OsrmRouter("http://127.0.0.1:9")  # nothing listens on the discard port
    try:
        routes = await router.routes([Position(-4.0, 119.62)], Position(-4.01, 119.62))
    finally:
        await router.close()
    assert routes[0] is not None and routes[0].source == "geodesic"
