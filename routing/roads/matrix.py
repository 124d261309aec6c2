"""Travel-time matrices over the road graph: `OsmRouter.eta_matrix` (the planner's entry
point, dispatch/planner/).

The rule is `OsmRouter.routes`'s (routing/roads/router.py), pair by pair, so that a
simulated dispatch picks the team live allocation would pick, with the same seconds:

- both ends snapped to their nearest node within `snap_max_m`; road seconds of the
  fastest drive, plus the two snapping legs at SNAP_KMH, rounded to whole seconds;
- a destination the graph cannot place (off the roads), or one on a piece of road
  apart from the city's that none of the given origins shares (an island): the
  geodesic fallback for its whole column, as `routes` answers such an incident;
- an origin off the roads: the geodesic fallback for that pair;
- a pair on the same piece of road but farther than `limit_s` by road: the ETA
  `routes` gives a team beyond its search, max(geodesic estimate, limit_s + 1);
- a pair on different pieces of road (no road from the origin to the destination):
  UNREACHABLE_S. `routes` gives such a team no route at all, so it is never sent; in
  the planner it ranks after every team that can drive there (it is sent only when no
  other fitting team is free, and the call then counts as late).

`routes` searches only until it has reached its 10 nearest teams (EXACT_TEAMS) and
gives the others the estimate: with up to 10 origins the two agree to the second;
with more, the matrix gives exact road times to teams `routes` estimates, which never
changes who is ranked first (an estimated team ranks after every reached one).

Cost: one scipy Dijkstra from each distinct snapped node of the SMALLER side: forward
from few origins, or over the reversed graph from few destinations, in batches of
BATCH sources (one call with several `indices`), bounded by `limit_s` (or `within_s`).
Searches from a few nodes (the bases and hospitals, the same every replication; the
call of a dispatch with teams driving back) are kept in a small LRU cache by node, so
a place searched once is not searched again.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from scipy.sparse import csgraph

from routing.roads.graph import haversine_m
from routing.roads.router import (
    RING_MARGIN,
    RING_SLACK_S,
    SHIFT,
    OsmRouter,
    RoadIndex,
    decode,
    estimate_s,
)

# The ETA of a pair with no road between them: one day, far beyond any response target.
UNREACHABLE_S = 24 * 3600
# Sources per Dijkstra call: the answer is BATCH x nodes float64 (50,000 nodes: 25 MB).
BATCH = 64
# Searches kept (each: nodes x 8 bytes, 400 kB for 50,000), and from how few nodes a
# matrix's searches go through the cache (the bases, hospitals, one call).
CACHE_SIZE = 64
CACHED_NODES = 16


class MatrixSearches:
    """The searches one RoadIndex needs for matrices: the forward encoded graph (made on
    first use) and an LRU cache of reverse searches by destination node, each with the
    bound it was searched to (a cached search answers any request within its bound)."""

    def __init__(self, index: RoadIndex) -> None:
        self.index = index
        self._forward = None
        # (direction, node) -> (encoded bound, encoded totals): 0 to the node, 1 from it.
        self._cache: OrderedDict[tuple[int, int], tuple[float, np.ndarray]] = OrderedDict()

    @property
    def forward(self):
        if self._forward is None:
            self._forward = self.index.reverse.T.tocsr()
        return self._forward

    def to_nodes(self, nodes: np.ndarray, limit_s: float) -> np.ndarray:
        """Encoded totals from every node to each of `nodes`, up to `limit_s` of driving
        (inf beyond): shape (len(nodes), N)."""
        return self._cached(self.index.reverse, 0, nodes, encoded_limit(limit_s))

    def from_nodes(self, nodes: np.ndarray, limit_s: float) -> np.ndarray:
        """Encoded totals from each of `nodes` to every node: shape (len(nodes), N)."""
        return self._cached(self.forward, 1, nodes, encoded_limit(limit_s))

    def cached(self, direction: int, nodes: np.ndarray, limit_s: float) -> bool:
        """Whether every search from `nodes` (0: to them, 1: from them) is in the cache
        to at least `limit_s`."""
        limit = encoded_limit(limit_s)
        return len(nodes) <= CACHED_NODES and all(
            (hit := self._cache.get((direction, node))) is not None and hit[0] >= limit
            for node in nodes.tolist())

    def _cached(self, matrix, direction: int, nodes: np.ndarray, limit: float) -> np.ndarray:
        """Searches from `nodes`, the few-node ones through the cache: the planner asks
        again and again from the same bases and hospitals (each replication) and, now
        and then, to the same call place."""
        if len(nodes) > CACHED_NODES:
            return self._search(matrix, nodes, limit)
        rows: list[np.ndarray | None] = []
        for node in nodes.tolist():
            hit = self._cache.get((direction, node))
            if hit is not None and hit[0] >= limit:
                self._cache.move_to_end((direction, node))
                rows.append(hit[1])
            else:
                rows.append(None)
        missing = [k for k, row in enumerate(rows) if row is None]
        if missing:
            found = self._search(matrix, nodes[missing], limit)
            for k, row in zip(missing, found, strict=True):
                rows[k] = row
                self._cache[(direction, int(nodes[k]))] = (limit, row)
                self._cache.move_to_end((direction, int(nodes[k])))
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return np.stack(rows)

    @staticmethod
    def _search(matrix, nodes: np.ndarray, limit: float) -> np.ndarray:
        out = np.empty((len(nodes), matrix.shape[0]))
        for start in range(0, len(nodes), BATCH):
            chunk = nodes[start:start + BATCH]
            out[start:start + len(chunk)] = csgraph.dijkstra(
                matrix, directed=True, indices=chunk, limit=limit).reshape(len(chunk), -1)
        return out


def encoded_limit(limit_s: float) -> float:
    """The very bound of RoadIndex.search: what `routes` reaches, a matrix reaches."""
    return (limit_s * 100.0 + 1.0) * SHIFT


def road_totals(searches: MatrixSearches, o_nodes: np.ndarray, d_nodes: np.ndarray,
                limit_s: float) -> np.ndarray:
    """Encoded totals (O, D) between snapped nodes (-1: not snapped, answered inf), each
    distinct node searched once, from the smaller side."""
    totals = np.full((len(o_nodes), len(d_nodes)), np.inf)
    o_ok, d_ok = o_nodes >= 0, d_nodes >= 0
    if not o_ok.any() or not d_ok.any():
        return totals
    o_unique, o_inv = np.unique(o_nodes[o_ok], return_inverse=True)
    d_unique, d_inv = np.unique(d_nodes[d_ok], return_inverse=True)
    # The smaller side, or the side whose searches are all cached already (a team free
    # at a hospital searched from the hospital, as every replication searches it).
    if len(d_unique) <= len(o_unique) and not searches.cached(1, o_unique, limit_s):
        found = searches.to_nodes(d_unique, limit_s)[:, o_unique]          # (D', O')
        block = found[d_inv][:, o_inv].T
    else:
        found = searches.from_nodes(o_unique, limit_s)[:, d_unique]        # (O', D')
        block = found[o_inv][:, d_inv]
    totals[np.ix_(o_ok, d_ok)] = block
    return totals


def eta_matrix(router: OsmRouter, origins, destinations,
               within_s: float | None = None) -> np.ndarray:
    """ETAs in whole seconds (int64, shape (O, D)) by the module's rule; `router` is an
    OsmRouter (its index loaded, else the geodesic fallback answers everything).

    `within_s`: only ETAs up to `within_s` are wanted exactly (the planner knows the best
    ETA of the teams at their bases: a moving team can win only below it); a pair whose
    ETA is above it may get any value above it. The search then stops there, a
    fraction of the cost of one to `limit_s`."""
    o = np.asarray(origins, dtype=float).reshape(-1, 2)
    d = np.asarray(destinations, dtype=float).reshape(-1, 2)
    index = router.index
    if index is None or len(o) == 0 or len(d) == 0:
        return router.fallback.eta_matrix(o, d).reshape(len(o), len(d))
    searches = router.searches
    if searches is None or searches.index is not index:
        searches = router.searches = MatrixSearches(index)
    o_nodes, o_m = _snap(index, o, router.snap_max_m)
    d_nodes, d_m = _snap(index, d, router.snap_max_m)
    pieces = index.components
    o_piece = np.where(o_nodes >= 0, pieces[np.maximum(o_nodes, 0)], -1)
    d_piece = np.where(d_nodes >= 0, pieces[np.maximum(d_nodes, 0)], -2)
    same = o_piece[:, None] == d_piece[None, :]
    rough = estimate_s(haversine_m(o[:, None, 0], o[:, None, 1], d[None, :, 0], d[None, :, 1]))
    totals, limit_s = _search(router, searches, o_nodes, d_nodes, same, rough, within_s)
    reached = np.isfinite(totals)
    seconds, _ = decode(np.where(reached, totals, 0.0))
    road = np.rint(seconds + (o_m[:, None] + d_m[None, :]) / router.snap_ms)
    # Beyond the search on the same piece: after every team reached, as `routes` does.
    past = np.rint(np.maximum(rough, round(limit_s) + 1))
    eta = np.where(reached, road, np.where(same, past, UNREACHABLE_S))
    geodesic = _fallback_mask(index, o_nodes, d_nodes, same)
    if geodesic.any():
        rows, cols = np.nonzero(geodesic.any(axis=1))[0], np.nonzero(geodesic.any(axis=0))[0]
        rough_block = router.fallback.eta_matrix(o[rows], d[cols]).reshape(len(rows), len(cols))
        fallback = np.zeros(eta.shape)
        fallback[np.ix_(rows, cols)] = rough_block
        eta = np.where(geodesic, fallback, eta)
    return eta.astype(np.int64)


def _search(router: OsmRouter, searches: MatrixSearches, o_nodes: np.ndarray,
            d_nodes: np.ndarray, same: np.ndarray, rough: np.ndarray,
            within_s: float | None) -> tuple[np.ndarray, float]:
    """Encoded totals (O, D) and the bound searched to. To `within_s` (+1 s: a drive a
    fraction past it may round down to it) when given. For one destination, in rings
    as `routes` searches: to a little past the farthest origin's straight-line estimate,
    twice as far while an origin of its piece of road is not reached, up to `limit_s`
    (a search of a few minutes costs a small fraction of one of 30). Else to `limit_s`."""
    if within_s is not None:
        limit_s = min(router.limit_s, within_s + 1)
        return road_totals(searches, o_nodes, d_nodes, limit_s), limit_s
    if len(d_nodes) != 1 or not same.any():
        return road_totals(searches, o_nodes, d_nodes, router.limit_s), router.limit_s
    ring_s = min(router.limit_s, float(rough[same].max()) * RING_MARGIN + RING_SLACK_S)
    while True:
        totals = road_totals(searches, o_nodes, d_nodes, ring_s)
        if ring_s >= router.limit_s or np.isfinite(totals[same]).all():
            return totals, ring_s
        ring_s = min(router.limit_s, ring_s * 2)


def _fallback_mask(index, o_nodes: np.ndarray, d_nodes: np.ndarray,
                   same: np.ndarray) -> np.ndarray:
    """Pairs the geodesic router answers: an origin off the roads; every pair of a
    destination off the roads, or on an island none of the origins shares."""
    mask = np.broadcast_to((o_nodes < 0)[:, None], same.shape).copy()
    d_ok = d_nodes >= 0
    d_piece = index.components[np.maximum(d_nodes, 0)]
    island = d_ok & (d_piece != index.main_piece) & ~same.any(axis=0)
    mask[:, ~d_ok | island] = True
    return mask


def _snap(index, points: np.ndarray, max_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(node or -1, metres to it) per (lat, lon) row, as RoadIndex.snap."""
    projected = index.project(points[:, 0], points[:, 1])
    metres, nodes = index.tree.query(projected, k=1, distance_upper_bound=max_m)
    found = np.isfinite(metres)
    return np.where(found, nodes, -1).astype(np.int64), np.where(found, metres, 0.0)
