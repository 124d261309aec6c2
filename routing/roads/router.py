"""Ranking teams by driving time over the road graph (`DISPATCH112_ROUTER=osm:PATH`).

Per incident: the incident and every team are snapped to their nearest graph node (a
KD-tree over the nodes in a local metric projection), then **one** Dijkstra search from
the incident over the reversed graph gives every node's driving time *to* the incident,
so all teams are answered at once. The search is bounded: it runs to a little past the
straight-line estimate of the `exact`-th (10th) nearest team's ETA, and again twice as
far, up to `limit_s` (30 minutes, twice the city's response target), only while it has
reached fewer than `exact` teams. Usually the first search answers, at a fraction of
the cost of a full one (load/bench_roads.py). A team of the incident's connected piece
of road beyond the search is ranked after every team within it, by the geodesic
estimate (its ETA past the search's reach, its source `geodesic`): it is never
preferred to a team the search reached, and it is sent only when none of those is free.

The search runs on the event loop. Measured (load/bench_roads.py): scipy's Dijkstra
holds the GIL while it runs, so a worker thread would not free the loop, only add a
hop; the limit is what bounds the time the loop waits.

The search runs on one number per edge that carries both time and length: centiseconds
shifted left by DISTANCE_BITS plus decimetres. Integer sums are exact in float64 below
2**53, so the total decodes into the fastest path's time (first) and that same path's
length, with no second search and no walk along predecessors. Paths are limited to
2**DISTANCE_BITS decimetres (1,677 km) and 2**29 centiseconds (6 days): a city is far
inside both.

The legs between a position and its node are added at SNAP_KMH in a straight line (a
lane, a yard, a house up a footpath). Where the graph cannot answer, the geodesic router
does, and the route says so (`source`): a position farther than `snap_max_m` from any
road, a graph not loaded yet or that failed, or an incident that no team can reach by
road (an incident on an island, a piece of road apart from the city's, with no free team
on it). A team that cannot reach the incident by road (on an island, on a piece cut off)
gets no route: it never wins by accident, and the incident waits for a team that can.

Snapping is to the nearest node, not the nearest point of an edge: OSM draws streets
with a node every few tens of metres, and the snapping leg at SNAP_KMH keeps a
position far from its node from looking closer than it is.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
import structlog
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from routing.base import Route
from routing.geo import Position
from routing.geodesic import DEFAULT_CIRCUITY, DEFAULT_SPEED_KMH, GeodesicRouter
from routing.roads.graph import EARTH_RADIUS_M, RoadGraph, haversine_m, load_graph

log = structlog.get_logger(__name__)

SNAP_KMH = 10.0
SNAP_MAX_M = 1000.0
SEARCH_LIMIT_S = 30 * 60
# The search reaches at least this many teams (or the limit): the nearest teams, all a
# dispatcher compares (the dashboard lists ten), get their road ETA. It goes first to
# the straight-line estimate of the tenth nearest team's ETA x RING_MARGIN +
# RING_SLACK_S (the snapping legs), doubling while short: a search of a few minutes'
# driving costs a small fraction of one of 30 minutes.
EXACT_TEAMS = 10
RING_MARGIN = 1.25
RING_SLACK_S = 60.0
DISTANCE_BITS = 24
# routes_near bounds a far team's leg to its node in this many slices.
LEG_SLICES = 20
SHIFT = float(2 ** DISTANCE_BITS)


class RoadIndex:
    """What one loaded graph needs for ranking: the reversed encoded CSR matrix and the
    KD-tree of its nodes. Immutable once built; safe to share between threads."""

    def __init__(self, graph: RoadGraph) -> None:
        self.graph = graph
        ticks = np.maximum(np.round(graph.seconds * 100.0), 1.0)
        weights = ticks * SHIFT + np.round(graph.metres * 10.0)
        self.reverse = graph.matrix(weights).T.tocsr()
        self.lat0 = math.radians(float(np.median(graph.lat)))
        self.tree = cKDTree(self.project(graph.lat, graph.lon))
        self.components = graph.components
        # The largest connected piece: the city. An incident there is answered by road
        # (teams that cannot drive to it get no route); one on a smaller piece that
        # no free team shares is not (an island: by boat, or as the operator decides).
        self.main_piece = int(np.bincount(self.components).argmax())

    def project(self, lat, lon) -> np.ndarray:
        """Metres on a local equirectangular projection (exact enough for a city)."""
        x = np.radians(np.asarray(lon, dtype=np.float64)) * math.cos(self.lat0)
        y = np.radians(np.asarray(lat, dtype=np.float64))
        return np.column_stack([x, y]) * EARTH_RADIUS_M

    def snap(self, positions: list[Position], max_m: float) -> tuple[np.ndarray, np.ndarray]:
        """(node or -1, metres to it) per position; -1 when no node is within max_m."""
        points = self.project([p.lat for p in positions], [p.lon for p in positions])
        metres, nodes = self.tree.query(points, k=1, distance_upper_bound=max_m)
        found = np.isfinite(metres)
        return np.where(found, nodes, -1), np.where(found, metres, 0.0)

    def search(self, node: int, limit_s: float | None) -> np.ndarray:
        """Encoded time+length from every node to `node` (inf: not within the limit)."""
        limit = np.inf if limit_s is None else (limit_s * 100.0 + 1.0) * SHIFT
        return csgraph.dijkstra(self.reverse, directed=True, indices=node, limit=limit)


def estimate_s(straight_m):
    """The geodesic router's estimate of the driving time over a straight-line distance
    (seconds, unrounded): it sizes the search, and it is the ETA of a team beyond it."""
    return straight_m * DEFAULT_CIRCUITY / (DEFAULT_SPEED_KMH / 3.6)


def decode(total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Seconds and metres of encoded path totals."""
    ticks = np.floor(total / SHIFT)
    return ticks / 100.0, (total - ticks * SHIFT) / 10.0


class OsmRouter:
    """Router over the road graph of an OpenStreetMap extract; see the module doc."""

    name = "osm"

    def __init__(self, extract: Path | str, *, limit_s: float = SEARCH_LIMIT_S,
                 snap_max_m: float = SNAP_MAX_M, snap_kmh: float = SNAP_KMH,
                 exact: int = EXACT_TEAMS) -> None:
        self.extract = Path(extract)
        self.limit_s = limit_s
        self.exact = exact
        self.snap_max_m = snap_max_m
        self.snap_ms = snap_kmh / 3.6
        self.fallback = GeodesicRouter()
        self.index: RoadIndex | None = None
        self.searches = None  # routing.roads.matrix.MatrixSearches, made by eta_matrix

    @property
    def graph(self) -> RoadGraph | None:
        """The loaded graph (None until `prepare` or `use`)."""
        return self.index.graph if self.index is not None else None

    async def prepare(self) -> None:
        """Load (or build and cache) the graph in a worker thread; the event loop keeps
        serving meanwhile. Raises routing.roads.ExtractError for an unusable extract."""
        index = await asyncio.to_thread(lambda: RoadIndex(load_graph(self.extract)))
        self.index = index
        log.info("roads.loaded", extract=str(self.extract), nodes=index.graph.node_count,
                 edges=index.graph.edge_count)

    def use(self, graph: RoadGraph) -> None:
        """Route over `graph` from now on (benchmarks, tests, a reload)."""
        self.index = RoadIndex(graph)

    async def routes(self, origins: list[Position], destination: Position) -> list[Route | None]:
        index = self.index
        if index is None or not origins:
            return await self.fallback.routes(origins, destination)
        ranked = self._rank(index, origins, destination)
        if ranked is None:
            return await self.fallback.routes(origins, destination)
        return await self._placed(ranked.routes, origins, destination)

    async def routes_near(self, origins: list[Position], destination: Position, cut_m: float,
                          exact: int) -> list[Route | None] | None:
        """`routes` of the teams nearest to `destination` on a map, every team nearer
        than `cut_m` in a straight line among them, when no other team could be among
        the first `exact` by ETA; else None (the caller then ranks every team).

        Sure when the search went no farther than its first ring, sized by the ten
        nearest teams, the same with every team; and the `exact`-th ETA here is shorter
        than any a team `cut_m` away or farther could get: by road from a node the
        search reached (_Ranked's least_eta_from), past the search or off the roads the
        straight-line estimate from `cut_m` away. A barrier (a river, a district cut
        off) that makes near teams slow is what sends the caller to every team."""
        index = self.index
        if index is None or not origins:
            return None
        ranked = self._rank(index, origins, destination)
        if ranked is None or ranked.widened:
            return None
        routes = await self._placed(ranked.routes, origins, destination)
        etas = sorted(route.eta_s for route in routes if route is not None)
        # Past the search or off the roads: the straight-line estimate, as _rank gives it.
        least = min(estimate_s(cut_m), ranked.least_eta_from(cut_m, self.snap_max_m,
                                                             self.snap_ms))
        if len(etas) < exact or etas[exact - 1] >= math.floor(least):
            return None
        return routes

    async def _placed(self, ranked: list[Route | None], origins: list[Position],
                      destination: Position) -> list[Route | None]:
        """`ranked` with the origins off the roads given their geodesic routes."""
        unplaced = [i for i, route in enumerate(ranked) if route is _UNPLACED]
        if unplaced:
            rough = await self.fallback.routes([origins[i] for i in unplaced], destination)
            for i, route in zip(unplaced, rough, strict=True):
                ranked[i] = route
        return ranked

    def eta_matrix(self, origins, destinations, within_s: float | None = None) -> np.ndarray:
        """ETAs in whole seconds from each origin to each destination (sequences of
        (lat, lon)), an int64 array (len(origins), len(destinations)): the planner's
        entry point, by the same rule as `routes` (routing/roads/matrix.py says how, what
        a pair with no road gets, and what `within_s` spares). Blocking CPU work."""
        from routing.roads.matrix import eta_matrix
        return eta_matrix(self, origins, destinations, within_s)

    def _rank(self, index: RoadIndex, origins: list[Position],
              destination: Position) -> _Ranked | None:
        """Routes by road; the geodesic estimate (after every team reached) where an
        origin lies beyond the search; _UNPLACED where it is off the roads; None where
        no road leads from it to the incident. None for the whole answer when the graph
        cannot place the incident, or no team can reach it by road (then distance
        decides for all)."""
        target, target_m = index.snap([destination], self.snap_max_m)
        if target[0] < 0:
            return None
        nodes, snap_m = index.snap(origins, self.snap_max_m)
        snapped = nodes >= 0
        same_piece = snapped.copy()
        same_piece[snapped] = index.components[nodes[snapped]] == index.components[target[0]]
        if not same_piece.any() and index.components[target[0]] != index.main_piece:
            return None  # an incident on an island no team is on: distance decides
        # The geodesic router's estimate of every team: it sizes the search, and it is
        # the answer for the teams beyond it.
        straight_m = haversine_m(np.array([o.lat for o in origins]),
                                 np.array([o.lon for o in origins]),
                                 destination.lat, destination.lon)
        rough_m, rough = straight_m * DEFAULT_CIRCUITY, estimate_s(straight_m)
        totals, searched_s, found, widened = self._search(index, int(target[0]), nodes,
                                                          snapped, rough[same_piece])
        reached = np.isfinite(totals)
        seconds, metres = decode(np.where(reached, totals, 0.0))
        leg_m = snap_m + target_m[0]
        # Beyond the search: after every team it reached, whatever the estimate says.
        past = np.maximum(rough, round(searched_s) + 1)
        # Whole numbers as Python ints in one go: rounding numpy scalars one by one
        # costs more than the search itself for a thousand teams.
        eta = np.rint(np.where(reached, seconds + leg_m / self.snap_ms, past))
        distance = np.rint(np.where(reached, metres + leg_m, rough_m))
        eta, distance = eta.astype(np.int64).tolist(), distance.astype(np.int64).tolist()
        kind = np.where(~snapped, 0, np.where(reached, 1, np.where(same_piece, 2, 3))).tolist()
        sources = (None, self.name, "geodesic")
        return _Ranked([Route(eta_s=eta[i], distance_m=distance[i], source=sources[k])
                        if k in (1, 2) else _UNPLACED if k == 0 else None
                        for i, k in enumerate(kind)], index, destination, found, widened)

    def _search(self, index: RoadIndex, target: int, nodes: np.ndarray, snapped: np.ndarray,
                rough_s: np.ndarray) -> tuple[np.ndarray, float, np.ndarray | None, bool]:
        """Encoded totals per origin (inf: not reached), how far the search went, its
        totals for every node (None: no search), and whether it went past its first
        ring or had fewer than `exact` teams to size it (then more teams could have
        changed how far it went).

        It goes first to a little past the estimated ETA of the `exact`-th nearest team
        (`rough_s`: the estimates of the teams that share the incident's piece of road),
        then twice as far each time while it has reached fewer than that many, up to
        `limit_s`."""
        wanted = min(self.exact, len(rough_s))
        totals = np.full(len(nodes), np.inf)
        if wanted == 0:
            return totals, 0.0, None, True
        guess = np.partition(rough_s, wanted - 1)[wanted - 1]
        ring_s = min(self.limit_s, guess * RING_MARGIN + RING_SLACK_S)
        widened = wanted < self.exact
        while True:
            found = index.search(target, ring_s)
            totals[snapped] = found[nodes[snapped]]
            if ring_s >= self.limit_s or np.count_nonzero(np.isfinite(totals)) >= wanted:
                return totals, ring_s, found, widened
            ring_s, widened = min(self.limit_s, ring_s * 2), True


class _Ranked(NamedTuple):
    """What `_rank` found: a route per origin, and the search it ran (`found`: the
    encoded total of every node to the incident's, None when it ran none; `widened`:
    as _search says)."""

    routes: list[Route | None]
    index: RoadIndex
    destination: Position
    found: np.ndarray | None
    widened: bool

    def least_eta_from(self, cut_m: float, snap_max_m: float, snap_ms: float) -> float:
        """The least ETA the search gives a team `cut_m` or farther from the incident in
        a straight line (inf: none). Such a team is up to `snap_max_m` from its node,
        at `snap_ms`, and its node at least `cut_m` less that from the incident: for
        each slice of that leg, the quickest node reached far enough plus the leg's
        least time."""
        if self.found is None:
            return math.inf
        reached = np.isfinite(self.found)
        here = self.index.project([self.destination.lat], [self.destination.lon])
        # At most this far (the local projection's distance, with a margin).
        far = np.hypot(*(self.index.tree.data[reached] - here).T) * 1.01 + 10.0
        seconds, _ = decode(self.found[reached])
        legs = np.linspace(0.0, snap_max_m, LEG_SLICES + 1)
        least = math.inf
        for low, high in zip(legs[:-1], legs[1:], strict=True):
            beyond = seconds[far >= cut_m - high]
            if len(beyond):
                least = min(least, float(beyond.min()) + low / snap_ms)
        return least


# Marks an origin the graph cannot place: replaced by the geodesic router's route.
_UNPLACED = Route(eta_s=-1, distance_m=-1, source="geodesic")
