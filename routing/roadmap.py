"""The road graph drawn and driven: the ways inside a box, and one route with its line.

Built on routing.roads' public API (RoadGraph, the router's RoadIndex) and nothing
else of it, so that the graph's internals can change without this module.

`RoadLayer(graph)` is made once per loaded graph (`road_layer(graph)` keeps it): it
holds every way's bounding box, so the ways crossing a box are found by four array
comparisons, the main roads' features, made once, and the graph's matrices of seconds
and metres that routes are searched and measured on.

`fastest_path(index, origin, destination)` snaps both ends as the router does (the
nearest node within SNAP_MAX_M), runs one Dijkstra search from the origin's node with
predecessors, and walks them back. Its ETA and distance are counted the way the router
counts an assignment's (the path's seconds and metres, plus the straight legs between
each position and its node at SNAP_KMH), so the line the team sees and the ETA the
operator saw agree.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.sparse import csgraph

from routing.geo import Position
from routing.roads import HIGHWAY_CLASSES, MAIN_CLASSES, RoadGraph
from routing.roads.router import SNAP_KMH, SNAP_MAX_M, RoadIndex

# Coordinates are written with 6 decimals (0.1 m): more only makes the answer longer.
DECIMALS = 6
# A route search gives up beyond this (a team two hours away is not driving there).
ROUTE_LIMIT_S = 2 * 3600


@dataclass(frozen=True)
class Box:
    """(south, west, north, east) in WGS 84 degrees, south <= north and west <= east."""

    south: float
    west: float
    north: float
    east: float

    @property
    def span_deg(self) -> float:
        """The larger side, in degrees."""
        return max(self.north - self.south, self.east - self.west)


def way_feature(name: str, direction: int, coordinates: list[list[float]]) -> dict:
    """A way as a GeoJSON Feature: a LineString of [lon, lat] `coordinates`, its
    highway class, whether it is a main road and its one-way direction (0 both, 1 in
    the order drawn, -1 against it)."""
    return {"type": "Feature",
            "properties": {"highway": name, "main": name in MAIN_CLASSES,
                           "oneway": direction},
            "geometry": {"type": "LineString", "coordinates": coordinates}}


def lon_lat(lat: np.ndarray, lon: np.ndarray) -> list[list[float]]:
    """[[lon, lat], ...] rounded to DECIMALS (numpy does it for the whole line: the
    answers with every road of a box are made of thousands of these)."""
    return np.round(np.column_stack([lon, lat]), DECIMALS).tolist()


class RoadLayer:
    """The ways of one graph, ready to be cut by a box. Its arrays are fixed once built;
    features and matrices are made at first use and kept (two threads making the same
    one at once only make it twice)."""

    def __init__(self, graph: RoadGraph) -> None:
        self.graph = graph
        starts = graph.way_start[:-1]
        lat, lon = graph.lat[graph.way_nodes], graph.lon[graph.way_nodes]
        self.south = np.minimum.reduceat(lat, starts) if len(starts) else lat[:0]
        self.north = np.maximum.reduceat(lat, starts) if len(starts) else lat[:0]
        self.west = np.minimum.reduceat(lon, starts) if len(starts) else lon[:0]
        self.east = np.maximum.reduceat(lon, starts) if len(starts) else lon[:0]
        main = [HIGHWAY_CLASSES.index(name) for name in MAIN_CLASSES
                if name in HIGHWAY_CLASSES]
        self.is_main = np.isin(graph.way_class, main)
        # Each way's Feature once made, kept: the same streets are asked for again at
        # every pan of the map. Never changed once made (answers share them).
        self._made: list[dict | None] = [None] * len(self.is_main)
        self.main_features = [self.feature(int(w)) for w in np.flatnonzero(self.is_main)]

    @cached_property
    def seconds(self):
        """The graph's CSR matrix of travel seconds, made once (routes search it)."""
        return self.graph.matrix()

    @cached_property
    def metres(self):
        """The same edges' lengths in metres (a route's length is read from it)."""
        return self.graph.matrix(self.graph.metres)

    def feature(self, way: int) -> dict:
        """The Feature of way number `way`."""
        made = self._made[way]
        if made is None:
            made = self._made[way] = self._make(way)
        return made

    def _make(self, way: int) -> dict:
        graph = self.graph
        nodes = graph.way_nodes[graph.way_start[way]:graph.way_start[way + 1]]
        return way_feature(HIGHWAY_CLASSES[graph.way_class[way]],
                           int(graph.way_direction[way]),
                           lon_lat(graph.lat[nodes], graph.lon[nodes]))

    def crossing(self, box: Box, *, main_only: bool) -> np.ndarray:
        """Numbers of the ways whose bounding box meets `box` (a way passing by a
        corner may be included: the map clips it)."""
        hits = ((self.south <= box.north) & (self.north >= box.south)
                & (self.west <= box.east) & (self.east >= box.west))
        if main_only:
            hits &= self.is_main
        return np.flatnonzero(hits)

    def features(self, box: Box | None, *, main_only: bool, limit: int) -> tuple[list[dict], bool]:
        """The features of the ways in `box` (all of them when None), at most `limit`;
        and whether some were left out."""
        if box is None and main_only:
            return self.main_features[:limit], len(self.main_features) > limit
        ways = (np.arange(len(self.is_main)) if box is None
                else self.crossing(box, main_only=main_only))
        if main_only:
            ways = ways[self.is_main[ways]]
        return [self.feature(int(w)) for w in ways[:limit]], len(ways) > limit


_LAYERS: weakref.WeakKeyDictionary[RoadGraph, RoadLayer] = weakref.WeakKeyDictionary()


def road_layer(graph: RoadGraph) -> RoadLayer:
    """The layer of `graph`, built at the first call and kept as long as the graph."""
    layer = _LAYERS.get(graph)
    if layer is None:
        layer = _LAYERS[graph] = RoadLayer(graph)
    return layer


@dataclass(frozen=True)
class PathOnRoads:
    """A route along the roads: its points ((lat, lon), from the origin's position to
    the destination's), its time and length counted as the router counts an ETA."""

    points: list[tuple[float, float]]
    eta_s: int
    distance_m: int


def _path_nodes(predecessors: np.ndarray, source: int, target: int) -> list[int]:
    """The nodes from `source` to `target` along Dijkstra's predecessors."""
    nodes = [target]
    while nodes[-1] != source:  # at most node_count steps: predecessors form a tree
        nodes.append(int(predecessors[nodes[-1]]))
    nodes.reverse()
    return nodes


def fastest_path(index: RoadIndex, origin: Position, destination: Position, *,
                 snap_max_m: float = SNAP_MAX_M, snap_kmh: float = SNAP_KMH,
                 limit_s: float = ROUTE_LIMIT_S) -> PathOnRoads | None:
    """The fastest drive from `origin` to `destination`, or None when either is farther
    than `snap_max_m` from a road, or no road leads there within `limit_s`."""
    graph = index.graph
    ends, legs_m = index.snap([origin, destination], snap_max_m)
    if ends[0] < 0 or ends[1] < 0:
        return None
    source, target = int(ends[0]), int(ends[1])
    layer = road_layer(graph)
    seconds, predecessors = csgraph.dijkstra(layer.seconds, directed=True, indices=source,
                                             return_predecessors=True, limit=limit_s)
    if not np.isfinite(seconds[target]):
        return None
    nodes = _path_nodes(predecessors, source, target)
    metres = 0.0
    if len(nodes) > 1:
        lengths = layer.metres[nodes[:-1], nodes[1:]]
        metres = float(np.asarray(lengths).sum())
    leg_m = float(legs_m[0] + legs_m[1])
    points = [(origin.lat, origin.lon),
              *zip(graph.lat[nodes].tolist(), graph.lon[nodes].tolist(), strict=True),
              (destination.lat, destination.lon)]
    return PathOnRoads(points=points, eta_s=round(seconds[target] + leg_m / (snap_kmh / 3.6)),
                       distance_m=round(metres + leg_m))
