"""Road routing on a synthetic city of about 50,000 road nodes.

Measures: building the graph from an `.osm.pbf` extract (parse, graph, cache written),
loading it again from its cache, making the router's index (KD-tree, reversed matrix);
ranking 100 candidate teams for one incident (`OsmRouter.routes`: snapping, one search,
decoding) at random points; and the allocation decision with 1,000 teams (as
load/bench_allocation.py times it: insert, lock, do_allocate, events, rolled back) with
the geodesic router and with the road router, at the same points.

    .venv/bin/python -m load.bench_roads [--side 224] [--rankings 300] [--incidents 300]

The city: a side x side grid of junctions (default 224: 50,176 nodes) spread over
Parepare's bounding box (about 55 m between junctions, an OSM-like node density),
every 10th street primary, every 5th secondary, the rest residential, one street in
seven one-way, gaps now and then (tests/roads_support.city_grid). DATABASE_URL names
a server for the allocation part (a fresh database, dropped afterwards); without it an
embedded PostgreSQL is started in a temp dir and removed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

from db.pool import create_pool
from dispatch.config import Settings
from dispatch.context import Context
from dispatch.logs import configure_logging
from load.bench_allocation import Timings, decide, make_points, prepare, rank_only
from load.common import (
    LAT_MAX,
    LAT_MIN,
    LON_MIN,
    fresh_database,
    machine,
    random_point,
    summary_ms,
)
from routing import GeodesicRouter, Position
from routing.roads import load_graph
from routing.roads.graph import EARTH_RADIUS_M
from routing.roads.router import OsmRouter, RoadIndex
from tests.roads_support import city_grid

# Searches timed on their own: how the cost grows with the driving time searched.
SPANS_S = (3 * 60, 6 * 60, 12 * 60, 30 * 60)


def _timed(work):
    started = time.perf_counter()
    value = work()
    return value, time.perf_counter() - started


def build_city(folder: Path, side: int, seed: int) -> tuple[Path, float]:
    """Write the synthetic extract covering Parepare's box; (path, junction spacing)."""
    height_m = (LAT_MAX - LAT_MIN) * EARTH_RADIUS_M * 3.141592653589793 / 180
    spacing = height_m / (side - 1)
    osm = city_grid(side, spacing_m=spacing, seed=seed, origin=(LAT_MIN, LON_MIN))
    return osm.write(folder / "city.osm.pbf"), spacing


def measure_graph(extract: Path) -> dict:
    graph, build_s = _timed(lambda: load_graph(extract))
    loads = [_timed(lambda: load_graph(extract))[1] for _ in range(5)]
    index, index_s = _timed(lambda: RoadIndex(graph))
    return {"graph": graph, "build_s": build_s, "load_s": statistics.median(loads),
            "index": index, "index_s": index_s}


async def measure_ranking(router, count: int, candidates: int,
                          seed: int) -> tuple[list[float], dict[float, list[float]], int]:
    """Seconds of `router.routes` for `count` incidents of `candidates` random teams
    each; for a road router also of one search alone to each of SPANS_S; how many
    routes came by road."""
    rng = random.Random(seed)
    timings, by_road = [], 0
    spans = SPANS_S if getattr(router, "index", None) is not None else ()
    searches: dict[float, list[float]] = {span: [] for span in spans}
    index = getattr(router, "index", None)
    for n in range(count + 10):
        origins = [Position(*random_point(rng)) for _ in range(candidates)]
        destination = Position(*random_point(rng))
        started = time.perf_counter()
        routes = await router.routes(origins, destination)
        elapsed = time.perf_counter() - started
        if n < 10:  # the first ten warm up
            continue
        timings.append(elapsed)
        by_road += sum(1 for r in routes if r is not None and r.source == "osm")
        if index is not None:
            node = int(index.snap([destination], 1e9)[0][0])
            for ring, found in searches.items():
                started = time.perf_counter()
                index.search(node, ring)
                found.append(time.perf_counter() - started)
    return timings, searches, by_road


async def measure_allocation(args: argparse.Namespace, router: OsmRouter) -> dict:
    """Allocation decisions with 1,000 teams at the same points, geodesic and road in
    turns (point by point: a shared, busy machine drifts; pairs cancel the drift)."""
    async with fresh_database(fast=args.fast) as database:
        pool = await create_pool(database.dsn, min_size=1, max_size=1)
        try:
            async with pool.acquire() as conn:
                await prepare(conn, argparse.Namespace(teams=args.teams, seed=args.seed,
                                                       gps_share=0.3, history=2000))
                geodesic = Context.create(Settings(database_url=database.dsn,
                                                   secret_key="bench"), pool)
                road = replace(geodesic, router=router)
                points = make_points(args.incidents + 20, args.seed + 1)
                results = {"geodesic": Timings([], [], [], [], Counter()),
                           "road": Timings([], [], [], [], Counter())}
                for n, point in enumerate(points):
                    for name, ctx in (("geodesic", geodesic), ("road", road)):
                        elapsed, outcome = await decide(conn, ctx, point)
                        _, _, routing = await rank_only(conn, ctx, point)
                        if n >= 20:  # the first twenty warm up
                            results[name].decision.append(elapsed)
                            results[name].routing.append(routing)
                            results[name].outcomes[outcome] += 1
        finally:
            await pool.close()
    return results


async def run(args: argparse.Namespace) -> None:
    configure_logging(args.log_level)
    print("dispatch112 road routing benchmark")
    print(f"  machine      {machine()}")
    with tempfile.TemporaryDirectory(prefix="d112-roads-") as tmp:
        (extract, spacing), write_s = _timed(lambda: build_city(Path(tmp), args.side, args.seed))
        graph_figures = measure_graph(extract)
        graph = graph_figures["graph"]
        print(f"  city         {graph.node_count} nodes, {graph.edge_count} directed edges, "
              f"{len(graph.way_class)} ways, junctions {spacing:.0f} m apart; extract "
              f"{extract.stat().st_size / 1e6:.1f} MB .osm.pbf (written in {write_s:.1f} s)")
        print("graph:")
        print(f"  build from the extract (parse, graph, cache written)  "
              f"{graph_figures['build_s'] * 1000:8.1f} ms")
        print(f"  load from the cache (median of 5)                     "
              f"{graph_figures['load_s'] * 1000:8.1f} ms")
        print(f"  router index (KD-tree, reversed matrix)               "
              f"{graph_figures['index_s'] * 1000:8.1f} ms")
        router = OsmRouter(extract)
        router.index = graph_figures["index"]
        timings, searches, by_road = await measure_ranking(router, args.rankings, 100,
                                                           args.seed + 2)
        print(f"ranking 100 candidate teams for one incident, {len(timings)} incidents "
              f"({by_road} of {100 * len(timings)} routes by road), limit "
              f"{router.limit_s / 60:.0f} min:")
        print(f"  OsmRouter.routes        {summary_ms(timings)}")
        geodesic_timings, _, _ = await measure_ranking(GeodesicRouter(), args.rankings, 100,
                                                       args.seed + 2)
        print(f"  GeodesicRouter.routes   {summary_ms(geodesic_timings)}")
        print("one search alone, from the same incidents, to a driving time of:")
        for ring, found in searches.items():
            print(f"  {ring / 60:4.0f} min{'' if ring < router.limit_s else ' (limit)':9s}  "
                  f"{summary_ms(found)}")
        if args.incidents:
            results = await measure_allocation(args, router)
            print(f"allocation decision with {args.teams} teams "
                  f"(insert + lock + do_allocate + events, rolled back; {args.incidents} "
                  "incidents each):")
            for name, found in results.items():
                print(f"  {name:9s} {summary_ms(found.decision)}")
                print(f"  {'':9s} router.routes alone: {summary_ms(found.routing)}")
                print(f"  {'':9s} outcomes: " + ", ".join(
                    f"{k} {n}" for k, n in sorted(found.outcomes.items())))
            pairs = zip(results["road"].decision, results["geodesic"].decision, strict=True)
            extra = sorted(road - geo for road, geo in pairs)
            print(f"  road - geodesic, same incident: median {statistics.median(extra) * 1000:.2f}"
                  f" ms (p10 {extra[len(extra) // 10] * 1000:.2f}, p90 "
                  f"{extra[len(extra) * 9 // 10] * 1000:.2f})")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m load.bench_roads",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--side", type=int, default=224,
                        help="junctions per side of the grid (default 224: 50,176 nodes)")
    parser.add_argument("--rankings", type=int, default=300,
                        help="incidents ranked against 100 random teams (default 300)")
    parser.add_argument("--teams", type=int, default=1000)
    parser.add_argument("--incidents", type=int, default=300,
                        help="timed allocation decisions per router (default 300; 0: none)")
    parser.add_argument("--seed", type=int, default=112)
    parser.add_argument("--fast", action="store_true",
                        help="embedded server with fsync off (no effect with DATABASE_URL)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if not (10 <= args.side <= 1000 and 1 <= args.rankings <= 10_000
            and 1 <= args.teams <= 100_000 and 0 <= args.incidents <= 20_000):
        parser.error("side 10..1000, rankings 1..10000, teams 1..100000, incidents 0..20000")
    return args


def main(argv: list[str] | None = None) -> None:
    asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
