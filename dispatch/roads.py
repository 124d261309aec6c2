"""The `dispatch112 roads` commands: build an extract's road graph (`import`) and check
it against the teams' bases (`check`), see docs/routing.md."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import numpy as np
from scipy.sparse import csgraph

from db import teams as teams_db
from routing.geo import Position
from routing.roads import RoadGraph, cache_path, load_graph
from routing.roads.router import SNAP_MAX_M, RoadIndex


@dataclass(frozen=True)
class Summary:
    nodes: int
    edges: int
    ways: int
    pieces: int
    largest_share: float
    bbox: tuple[float, float, float, float]

    def describe(self) -> str:
        south, west, north, east = self.bbox
        return (f"nodes {self.nodes}, edges {self.edges} (one per direction a vehicle may "
                f"drive), ways {self.ways}\nconnected pieces {self.pieces}, the largest "
                f"holding {self.largest_share:.1%} of the nodes\nbounds lat {south:.5f}.."
                f"{north:.5f}, lon {west:.5f}..{east:.5f}")


def do_import(extract: Path) -> tuple[RoadGraph, float]:
    """Build (or reuse) the cached graph of `extract`; the graph and the seconds it took.
    Raises routing.roads.ExtractError for an unusable file."""
    started = time.perf_counter()
    graph = load_graph(extract)
    return graph, time.perf_counter() - started


def get_summary(graph: RoadGraph) -> Summary:
    sizes = np.bincount(graph.components)
    return Summary(graph.node_count, graph.edge_count, len(graph.way_class), len(sizes),
                   float(sizes.max() / graph.node_count), graph.bbox())


def get_base_problems(graph: RoadGraph, teams: list[asyncpg.Record]) -> list[str]:
    """One line per team whose base the road graph cannot serve: off the roads (farther
    than the snapping distance), or on a node outside the city's largest strongly
    connected piece (an island, a piece cut off, a one-way trap), from which a team
    could not drive to every incident of the city or back."""
    if not teams:
        return []
    index = RoadIndex(graph)
    _, strong = csgraph.connected_components(graph.matrix(), directed=True,
                                             connection="strong")
    city = int(np.bincount(strong).argmax())
    nodes, metres = index.snap([Position(t["base_lat"], t["base_lon"]) for t in teams],
                               SNAP_MAX_M)
    problems = []
    for team, node, distance in zip(teams, nodes, metres, strict=True):
        where = f"team {team['code']} (base {team['base_lat']:.5f}, {team['base_lon']:.5f})"
        if node < 0:
            problems.append(f"{where}: no road within {SNAP_MAX_M:.0f} m")
        elif strong[node] != city:
            piece = int(np.count_nonzero(strong == strong[node]))
            problems.append(f"{where}: its road ({distance:.0f} m away) is on a piece of "
                            f"{piece} node(s) cut off from the city's network")
    return problems


async def get_teams(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await teams_db.get_teams(conn, 0)


def describe_import(extract: Path, graph: RoadGraph, seconds: float) -> str:
    return (f"{extract}: {get_summary(graph).describe()}\ngraph ready in {seconds:.2f} s, "
            f"cached at {cache_path(extract)}\nset DISPATCH112_ROUTER=osm:"
            f"{extract.resolve()} to rank teams by road")
