"""The road graph: built once from an extract, cached next to it, reloaded fast.

A graph is a handful of numpy arrays (see RoadGraph). The cache is an uncompressed
`.npz` beside the extract (`city.osm.pbf` -> `city.osm.pbf.graph.npz`), keyed by the
extract's SHA-256, the cache format and the speed profile: a changed extract, a new
format or other speeds rebuild it. A cache that cannot be read or does not hold together
is rebuilt, never trusted. Writing goes through a temporary file and a rename, so a
reader never sees half a cache; a directory that cannot be written only costs the
cache (logged), not the graph.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

import numpy as np
import structlog
from scipy.sparse import csgraph, csr_matrix

from routing.roads import profile
from routing.roads.parse import ExtractError, Ways, read_ways

log = structlog.get_logger(__name__)

FORMAT_VERSION = 1
EARTH_RADIUS_M = 6_371_009.0  # geopy's mean radius, as routing.geodesic uses
# No edge is shorter than this many seconds: a zero weight would read as "no edge".
MIN_EDGE_S = 0.01


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """Directed road graph in CSR form (see routing.roads for the whole API).

    Nodes 0..n-1: `lat`, `lon` (WGS 84 degrees), `node_id` (the OSM node id).
    Edges of node u: positions indptr[u]:indptr[u+1] of `target` (node), `seconds`
    (travel time of the emergency vehicle), `metres` and `road_class` (an index into
    profile.HIGHWAY_CLASSES). Only the directions a vehicle may drive are edges.
    Ways, for drawing: the nodes of way w are way_nodes[way_start[w]:way_start[w+1]],
    its class way_class[w], its direction way_direction[w] (profile.BOTH, FORWARD,
    BACKWARD relative to that node order).
    """

    lat: np.ndarray
    lon: np.ndarray
    node_id: np.ndarray
    indptr: np.ndarray
    target: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray
    road_class: np.ndarray
    way_start: np.ndarray
    way_nodes: np.ndarray
    way_class: np.ndarray
    way_direction: np.ndarray

    @property
    def node_count(self) -> int:
        return len(self.lat)

    @property
    def edge_count(self) -> int:
        return len(self.target)

    def sources(self) -> np.ndarray:
        """The source node of every edge (parallel to `target`)."""
        return np.repeat(np.arange(self.node_count, dtype=np.int32), np.diff(self.indptr))

    def matrix(self, weights: np.ndarray | None = None) -> csr_matrix:
        """The graph as a scipy CSR matrix of `weights` (default: seconds)."""
        data = self.seconds if weights is None else weights
        n = self.node_count
        return csr_matrix((data, self.target, self.indptr), shape=(n, n))

    @cached_property
    def components(self) -> np.ndarray:
        """Weakly connected component of every node: nodes of different components
        can never reach each other (islands, pieces cut off by the extract)."""
        _, labels = csgraph.connected_components(self.matrix(), directed=True,
                                                 connection="weak")
        return labels

    def bbox(self) -> tuple[float, float, float, float]:
        """(south, west, north, east) of the nodes."""
        return (float(self.lat.min()), float(self.lon.min()),
                float(self.lat.max()), float(self.lon.max()))

    def ways(self, classes: frozenset[str] | None = None
             ) -> Iterator[tuple[str, int, list[tuple[float, float]]]]:
        """(class name, direction, [(lat, lon), ...]) of each way, optionally only those
        of `classes` (e.g. profile.MAIN_CLASSES)."""
        names = profile.HIGHWAY_CLASSES
        for w in range(len(self.way_class)):
            name = names[self.way_class[w]]
            if classes is not None and name not in classes:
                continue
            nodes = self.way_nodes[self.way_start[w]:self.way_start[w + 1]]
            yield name, int(self.way_direction[w]), list(zip(self.lat[nodes].tolist(),
                                                             self.lon[nodes].tolist(),
                                                             strict=True))


def haversine_m(lat1, lon1, lat2, lon2):
    """Great-circle distance in metres, element-wise over numpy arrays."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def _edges(ways: Ways, index: np.ndarray, lat: np.ndarray, lon: np.ndarray):
    """Directed edges (source, target, seconds, metres, class) of consecutive way nodes."""
    starts = np.asarray(ways.starts, dtype=np.int64)
    lengths = np.diff(starts)
    way_of = np.repeat(np.arange(len(lengths)), lengths)
    inner = np.ones(len(index), dtype=bool)
    inner[starts[1:] - 1] = False  # the last node of a way starts no segment
    pos = np.flatnonzero(inner)
    a, b, w = index[pos], index[pos + 1], way_of[pos]
    metres = haversine_m(lat[a], lon[a], lat[b], lon[b])
    speed_ms = np.asarray(ways.speed_kmh)[w] / 3.6
    seconds = np.maximum(metres / speed_ms, MIN_EDGE_S)
    cls = np.asarray(ways.road_class, dtype=np.uint8)[w]
    way_direction = np.asarray(ways.direction, dtype=np.int8)[w]
    fwd = way_direction != profile.BACKWARD
    bwd = way_direction != profile.FORWARD
    src = np.concatenate([a[fwd], b[bwd]])
    dst = np.concatenate([b[fwd], a[bwd]])
    return (src, dst, np.concatenate([seconds[fwd], seconds[bwd]]),
            np.concatenate([metres[fwd], metres[bwd]]), np.concatenate([cls[fwd], cls[bwd]]))


def build_from_ways(ways: Ways) -> RoadGraph:
    """The graph of parsed ways: shared OSM nodes join ways; of parallel edges between
    the same two nodes the fastest is kept."""
    node_ids, first, index = np.unique(np.asarray(ways.node_ids, dtype=np.int64),
                                       return_index=True, return_inverse=True)
    index = index.astype(np.int32)
    lat = np.asarray(ways.lats, dtype=np.float64)[first]
    lon = np.asarray(ways.lons, dtype=np.float64)[first]
    src, dst, seconds, metres, cls = _edges(ways, index, lat, lon)
    keep = src != dst
    src, dst, seconds, metres, cls = (x[keep] for x in (src, dst, seconds, metres, cls))
    order = np.lexsort((seconds, dst, src))
    src, dst = src[order], dst[order]
    first_of_pair = np.ones(len(order), dtype=bool)
    first_of_pair[1:] = (src[1:] != src[:-1]) | (dst[1:] != dst[:-1])
    pick = order[first_of_pair]
    src = src[first_of_pair]
    counts = np.bincount(src, minlength=len(node_ids))
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return RoadGraph(lat=lat, lon=lon, node_id=node_ids, indptr=indptr,
                     target=dst[first_of_pair].astype(np.int32), seconds=seconds[pick],
                     metres=metres[pick], road_class=cls[pick],
                     way_start=np.asarray(ways.starts, dtype=np.int64), way_nodes=index,
                     way_class=np.asarray(ways.road_class, dtype=np.uint8),
                     way_direction=np.asarray(ways.direction, dtype=np.int8))


def build_graph(path: Path) -> RoadGraph:
    """Parse the extract at `path` and build its graph (no cache involved)."""
    return build_from_ways(read_ways(Path(path)))


# --- the cache --------------------------------------------------------------------------

def cache_path(extract: Path) -> Path:
    """Where the graph of `extract` is cached: beside it."""
    extract = Path(extract)
    return extract.with_name(extract.name + ".graph.npz")


def extract_key(extract: Path) -> str:
    """What a cache must have been built from: format, profile and the file's digest."""
    digest = hashlib.sha256()
    with open(extract, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return f"v{FORMAT_VERSION}:{profile.fingerprint()}:{digest.hexdigest()}"


def save_cache(graph: RoadGraph, target: Path, key: str) -> None:
    """Write the graph atomically (temporary file, then rename)."""
    arrays = {f.name: getattr(graph, f.name) for f in fields(graph)}
    handle, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, key=np.array(key), **arrays)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _check(graph: RoadGraph) -> None:
    """Raise ValueError unless the arrays hold together as a graph."""
    n, e = graph.node_count, graph.edge_count
    same_nodes = len(graph.lon) == n and len(graph.node_id) == n
    same_edges = all(len(x) == e for x in (graph.seconds, graph.metres, graph.road_class))
    if not (same_nodes and same_edges and n > 0 and len(graph.indptr) == n + 1):
        raise ValueError("array lengths disagree")
    if graph.indptr[0] != 0 or graph.indptr[-1] != e or np.any(np.diff(graph.indptr) < 0):
        raise ValueError("bad edge index")
    if e and (graph.target.min() < 0 or graph.target.max() >= n
              or not np.all(graph.seconds > 0)):
        raise ValueError("bad edges")
    if len(graph.way_nodes) and (graph.way_nodes.min() < 0 or graph.way_nodes.max() >= n):
        raise ValueError("bad ways")
    if graph.way_start[-1] != len(graph.way_nodes) or len(graph.way_class) + 1 != len(
            graph.way_start):
        raise ValueError("bad way index")


def read_cache(target: Path, key: str) -> RoadGraph | None:
    """The cached graph if `target` holds a sound one built for `key`, else None."""
    try:
        with np.load(target, allow_pickle=False) as data:
            if str(data["key"]) != key:
                return None
            graph = RoadGraph(**{f.name: data[f.name] for f in fields(RoadGraph)})
        _check(graph)
        return graph
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("roads.cache_unusable", cache=str(target), error=str(exc))
        return None


def load_graph(extract: Path, *, use_cache: bool = True) -> RoadGraph:
    """The graph of the extract: from its cache when that is current and sound, else
    built (and cached). Raises routing.roads.ExtractError for an unusable extract."""
    extract = Path(extract)
    if not use_cache or not extract.is_file():  # the parser names what is wrong
        return build_graph(extract)
    try:
        key = extract_key(extract)
    except OSError as exc:
        raise ExtractError(f"cannot read the OpenStreetMap extract {extract}: {exc}") from exc
    target = cache_path(extract)
    graph = read_cache(target, key)
    if graph is not None:
        return graph
    graph = build_graph(extract)
    try:
        save_cache(graph, target, key)
    except OSError as exc:
        log.warning("roads.cache_not_written", cache=str(target), error=str(exc))
    return graph
