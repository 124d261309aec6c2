"""Synthetic OpenStreetMap extracts for the road-routing tests and benchmark.

Places are given in metres east (x) and north (y) of an origin and turned into WGS 84
on the same sphere the graph measures on, so that a road of 1,000 m in a test is
1,000 m in the graph (to well under 0.1 %).
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from xml.sax.saxutils import quoteattr

import osmium

from routing.roads.graph import EARTH_RADIUS_M

M_PER_DEG = EARTH_RADIUS_M * math.pi / 180
# Parepare, Soreang: the first region's origin.
ORIGIN = (-4.0, 119.62)


def place(x_m: float, y_m: float, origin: tuple[float, float] = ORIGIN) -> tuple[float, float]:
    """(lat, lon) of the point x_m east and y_m north of `origin`."""
    lat = origin[0] + y_m / M_PER_DEG
    return lat, origin[1] + x_m / (M_PER_DEG * math.cos(math.radians(origin[0])))


class OsmWriter:
    """Nodes and ways, written as an OSM XML file (or a PBF converted from it)."""

    def __init__(self) -> None:
        self.nodes: dict[int, tuple[float, float]] = {}
        self.ways: list[tuple[list[int], dict[str, str]]] = []
        self._where: dict[tuple[float, float], int] = {}

    def node(self, lat: float, lon: float) -> int:
        """The id of the node at (lat, lon): one node per place, so ways join there."""
        key = (round(lat, 9), round(lon, 9))
        if key not in self._where:
            self._where[key] = len(self.nodes) + 1
            self.nodes[self._where[key]] = (lat, lon)
        return self._where[key]

    def way(self, points: list[tuple[float, float]], **tags: str) -> list[int]:
        """A way through `points` ((lat, lon) each); tags as keyword arguments, with
        `_` for `:` (motor_vehicle stays as it is)."""
        ids = [self.node(lat, lon) for lat, lon in points]
        self.ways.append((ids, {key.replace("__", ":"): value for key, value in tags.items()}))
        return ids

    def xml(self) -> str:
        lines = ['<?xml version="1.0" encoding="UTF-8"?>',
                 '<osm version="0.6" generator="dispatch112 tests">']
        lines += [f' <node id="{i}" version="1" lat="{lat:.9f}" lon="{lon:.9f}"/>'
                  for i, (lat, lon) in self.nodes.items()]
        for number, (ids, tags) in enumerate(self.ways, start=1):
            lines.append(f' <way id="{number}" version="1">')
            lines += [f'  <nd ref="{i}"/>' for i in ids]
            lines += [f"  <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
            lines.append(" </way>")
        lines.append("</osm>")
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> Path:
        """Write `path` (.osm: XML; .osm.pbf: converted with pyosmium)."""
        path = Path(path)
        if path.name.endswith(".pbf"):
            xml = path.with_name(path.name + ".src.osm")
            xml.write_text(self.xml())
            path.unlink(missing_ok=True)
            with osmium.SimpleWriter(str(path)) as writer:
                for obj in osmium.FileProcessor(str(xml)):
                    writer.add(obj)
            xml.unlink()
        else:
            path.write_text(self.xml())
        return path


def city_grid(side: int, spacing_m: float = 80.0, seed: int = 112,
              origin: tuple[float, float] = ORIGIN) -> OsmWriter:
    """A city of side x side junctions: every 10th street primary, every 5th
    secondary, the rest residential; one street in 7 one-way (alternating); streets
    cut into ways of 3-20 blocks with a gap now and then; positions jittered by up to
    10 m; and a small island off the east side."""
    rnd = random.Random(seed)
    jitter = {(i, j): (rnd.uniform(-10, 10), rnd.uniform(-10, 10))
              for i in range(side) for j in range(side)}

    def at(i: int, j: int) -> tuple[float, float]:
        dx, dy = jitter[(i, j)]
        return place(i * spacing_m + dx, j * spacing_m + dy, origin)

    osm = OsmWriter()
    for line in range(side):
        highway = ("primary" if line % 10 == 0 else "secondary" if line % 5 == 0
                   else "residential")
        tags = {"highway": highway}
        if line % 7 == 3:
            tags["oneway"] = "yes" if line % 14 == 3 else "-1"
        for horizontal in (True, False):
            start = 0
            while start < side - 1:
                end = min(side - 1, start + rnd.randint(3, 20))
                cells = [(k, line) if horizontal else (line, k) for k in range(start, end + 1)]
                osm.way([at(*c) for c in cells], **tags)
                start = end + (2 if highway == "residential" and rnd.random() < 0.05 else 0)
    east = (side + 5) * spacing_m
    osm.way([place(east, y, origin) for y in (0, 200, 400)], highway="residential")
    return osm
