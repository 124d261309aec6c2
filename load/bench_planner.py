"""The planner's speed: the example scenarios of docs/planner-examples/ (the demo city
with 2, 3 and 5 teams at 1 and 2 calls an hour), each run as given (30 replications x
30 days), timed in CPU and wall seconds, with its late share. No database.

`--router osm`: each scenario also by road, over a synthetic city of side x side
junctions (default 224: 50,176 nodes) covering the demo city's box (load/bench_roads.py
builds the same one), after its graph is built and loaded once (timed apart)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from dispatch.planner import load_scenario, run_scenario
from dispatch.planner.run import road_router

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "planner-examples"


def _line(name: str, router: str, result: dict, cpu: float, wall: float) -> str:
    late = result["late_share"]
    calls = result["calls_per_replication"] * result["replications"]
    return (f"{name:22} {router:9} {calls:7.0f} {cpu:6.2f} {wall:6.2f}  "
            f"{100 * late['mean']:.1f} % [{100 * late['ci95'][0]:.1f}, "
            f"{100 * late['ci95'][1]:.1f}]")


def _timed_run(scenario) -> tuple[dict, float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    result = run_scenario(scenario)
    return result, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--router", choices=("geodesic", "osm"), default="geodesic",
                        help="osm: each scenario by road too, on the synthetic city")
    parser.add_argument("--side", type=int, default=224, help="junctions per side (osm)")
    parser.add_argument("--only", default=None, metavar="NAME",
                        help="only the example scenario NAME (e.g. 5-bases-1ph)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-planner-") as folder:
        spec = None
        if args.router == "osm":
            from load.bench_roads import build_city
            extract, _ = build_city(Path(folder), args.side, 112)
            started = time.perf_counter()
            graph = road_router(str(extract)).graph
            print(f"road graph: {graph.node_count:,} nodes, {graph.edge_count:,} edges, "
                  f"built and indexed in {time.perf_counter() - started:.1f} s")
            spec = f"osm:{extract}"
        print(f"{'scenario':22} {'router':9} {'calls':>7} {'cpu s':>6} {'wall s':>6}  "
              "late share [95 % CI]")
        for path in sorted(EXAMPLES.glob("*.json")):
            if args.only and path.stem != args.only:
                continue
            scenario = load_scenario(path, replications=args.replications, days=args.days)
            print(_line(path.stem, "geodesic", *_timed_run(scenario)), flush=True)
            if spec is not None:
                by_road = scenario.model_copy(update={"travel": scenario.travel.model_copy(
                    update={"router": spec})})
                print(_line(path.stem, "osm", *_timed_run(by_road)), flush=True)


if __name__ == "__main__":
    main()
