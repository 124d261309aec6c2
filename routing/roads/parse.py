"""Reading the drivable ways of an OpenStreetMap extract with pyosmium.

One pass over the file (`.osm`, `.osm.pbf`, and their compressed forms pyosmium reads)
with node locations cached in memory: a city's extract holds some 10^5-10^6 nodes. Ways
are cut where a node's location is missing (an extract clipped without
`--strategy complete_ways`), so that no road jumps across the gap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import osmium

from routing.roads import profile


class ExtractError(ValueError):
    """The extract cannot be read, or holds no drivable road."""


@dataclass
class Ways:
    """Drivable ways as flat lists: the nodes of way i are
    node_ids[starts[i]:starts[i+1]] (and the same slice of lats, lons)."""

    node_ids: list[int] = field(default_factory=list)
    lats: list[float] = field(default_factory=list)
    lons: list[float] = field(default_factory=list)
    starts: list[int] = field(default_factory=lambda: [0])
    road_class: list[int] = field(default_factory=list)
    speed_kmh: list[float] = field(default_factory=list)
    direction: list[int] = field(default_factory=list)

    def add(self, nodes: list[tuple[int, float, float]], road: int, kmh: float,
            way_direction: int) -> None:
        """One run of located nodes (at least two) of a way."""
        for ref, lat, lon in nodes:
            self.node_ids.append(ref)
            self.lats.append(lat)
            self.lons.append(lon)
        self.starts.append(len(self.node_ids))
        self.road_class.append(road)
        self.speed_kmh.append(kmh)
        self.direction.append(way_direction)

    def __len__(self) -> int:
        return len(self.road_class)


def _runs(way) -> list[list[tuple[int, float, float]]]:
    """The way's nodes split at those without a location; runs of two or more."""
    runs: list[list[tuple[int, float, float]]] = [[]]
    for node in way.nodes:
        location = node.location
        if location.valid():
            runs[-1].append((node.ref, location.lat, location.lon))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) >= 2]


def read_ways(path: Path) -> Ways:
    """Every drivable way of the extract at `path` with its class, speed and direction."""
    if not path.is_file():
        raise ExtractError(f"no such OpenStreetMap extract: {path}")
    classes = {name: index for index, name in enumerate(profile.HIGHWAY_CLASSES)}
    ways = Ways()
    try:
        processor = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
                     .with_locations()
                     .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
                     .with_filter(osmium.filter.KeyFilter("highway")))
        for way in processor:
            tags = way.tags
            road = profile.road_class(tags)
            if road is None or not profile.is_allowed(tags):
                continue
            kmh = profile.speed_kmh(road, tags.get("maxspeed"))
            way_direction = profile.direction(tags)
            for run in _runs(way):
                ways.add(run, classes[road], kmh, way_direction)
    except (RuntimeError, ValueError, OSError) as exc:  # libosmium's parse errors
        raise ExtractError(f"cannot read the OpenStreetMap extract {path}: {exc}") from exc
    if not ways:
        raise ExtractError(f"{path} holds no drivable road")
    return ways
