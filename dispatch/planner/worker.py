"""What the planner page's background worker runs, in a process of its own.

The simulation is CPU-bound (numpy and a Python event loop): it runs in a separate
process so that the service's event loop, and its GIL, stay free for dispatch. The
service (dispatch/planner/service.py) starts one worker process; `init` hands it a
small shared array through which it tells the service, without a pipe or a thread,
which job it is on and how far it got: [job number, done, total].

Jobs arrive as plain JSON (the scenarios as the client sent them, already validated
once by the service) and are validated again here, so that nothing but JSON crosses
the process boundary.
"""

from __future__ import annotations

from typing import Any

from dispatch.planner.run import compare_scenarios, run_scenario
from dispatch.planner.scenario import parse_scenario
from dispatch.planner.search import search_bases

# The shared array given by `init`: [job number, replications done, replications in all].
_progress: Any = None


def init(progress: Any) -> None:
    """Process initialiser: keep the shared progress array of the service."""
    global _progress
    _progress = progress


def _reporter(job: int):
    def report(done: int, total: int) -> None:
        if _progress is not None:
            with _progress.get_lock():
                _progress[0], _progress[1], _progress[2] = job, done, total
    return report


def execute(job: int, kind: str, scenarios: list[dict], search: dict | None) -> dict:
    """Run job number `job`: "run" (one scenario), "compare" (several, on the same
    calls) or "search" (the next bases for the first scenario). The result is the
    planner's plain dict (docs/planner.md)."""
    report = _reporter(job)
    report(0, 1)  # "running" from now on, before the first replication is done
    parsed = [parse_scenario(data) for data in scenarios]
    if kind == "compare":
        return compare_scenarios(parsed, report)
    if kind == "search":
        return search_bases(parsed[0], k=search["k"], top=search["top"], kind=search["kind"],
                            progress=report)
    return run_scenario(parsed[0], report)
