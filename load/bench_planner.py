"""The planner's speed: the example scenarios of docs/planner-examples/ (the demo city
with 2, 3 and 5 teams at 1 and 2 calls an hour), each run as given (30 replications x
30 days), timed in CPU and wall seconds, with its late share. No database."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from dispatch.planner import load_scenario, run_scenario

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "planner-examples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--days", type=int, default=None)
    args = parser.parse_args()
    print(f"{'scenario':22} {'calls':>7} {'cpu s':>6} {'wall s':>6}  late share [95 % CI]")
    for path in sorted(EXAMPLES.glob("*.json")):
        scenario = load_scenario(path, replications=args.replications, days=args.days)
        cpu, wall = time.process_time(), time.perf_counter()
        result = run_scenario(scenario)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        late = result["late_share"]
        calls = result["calls_per_replication"] * result["replications"]
        print(f"{path.stem:22} {calls:7.0f} {cpu:6.2f} {wall:6.2f}  {100 * late['mean']:.1f} % "
              f"[{100 * late['ci95'][0]:.1f}, {100 * late['ci95'][1]:.1f}]")


if __name__ == "__main__":
    main()
