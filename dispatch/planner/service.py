"""The planner page's runs: started by a request, simulated in a background worker
process, watched by polling, kept in memory.

One worker process (a ProcessPoolExecutor of one, started with "spawn" at the first
run) simulates one run at a time, off the event loop and outside the service's GIL.
Runs wait in order behind it; with `planner_queue` runs already waiting, a new one is
refused (503 + Retry-After) and nothing starts. The worker reports its progress
through a shared array (dispatch/planner/worker.py), read when a run is asked for.

Why in memory, not in the database: a run is a pure function of its scenarios and
seed (seconds of CPU, repeatable to the digit), so losing the last few at a restart
costs a click, not data. The last `planner_keep_runs` finished runs are kept. Behind a
load balancer the page must reach the instance that started its run (sticky
sessions); a run asked for elsewhere is 404, and the page says to start it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import secrets
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from dispatch.config import Settings
from dispatch.errors import NotFound, WorkerBusy
from dispatch.planner import worker
from dispatch.planner.scenario import ScenarioError
from dispatch.planner.schemas import Job
from dispatch.vocabulary import ACTIVE_PLANNER_RUN_STATES

log = structlog.get_logger(__name__)
RETRY_AFTER_S = 5
ACTIVE = ACTIVE_PLANNER_RUN_STATES


@dataclass
class Run:
    """One run of the planner page and what became of it."""

    id: str
    number: int  # the worker's job number (the shared progress array names it)
    job: Job
    by: str
    created_at: datetime
    status: str = "queued"  # one of PLANNER_RUN_STATES
    done: int = 0
    total: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    result: dict | None = None
    error: str | None = None
    future: asyncio.Future | None = field(default=None, repr=False)
    executor: ProcessPoolExecutor | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        return self.job.kind

    @property
    def progress(self) -> float:
        if self.status == "done":
            return 1.0
        return self.done / self.total if self.total else 0.0


class PlannerRuns:
    """The runs of one service instance and the worker process that simulates them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        # [job number, replications done, in all], written by the worker; made with the
        # first worker (a service whose planner is never used starts no process at all).
        self._shared = None
        self._executor: ProcessPoolExecutor | None = None
        self._runs: OrderedDict[str, Run] = OrderedDict()
        self._numbers = 0

    def _get_executor(self) -> ProcessPoolExecutor:
        if self._shared is None:
            self._shared = self._context.Array("q", 3)
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=self._context, initializer=worker.init,
                initargs=(self._shared,))
        return self._executor

    def do_start_run(self, job: Job, by: str) -> Run:
        """Queue `job` for the worker; WorkerBusy when `planner_queue` runs already
        wait behind the running one. Emits no event: a run changes no data of the
        service (it is kept in memory, see the module's docstring)."""
        active = sum(1 for run in self._runs.values() if run.status in ACTIVE)
        if active > self.settings.planner_queue:
            raise WorkerBusy(f"the planner is busy with {active} runs; try again shortly",
                             retry_after_s=RETRY_AFTER_S)
        self._numbers += 1
        run = Run(secrets.token_hex(8), self._numbers, job, by, datetime.now(UTC))
        loop = asyncio.get_running_loop()
        run.executor = self._get_executor()
        run.future = loop.run_in_executor(run.executor, worker.execute, run.number,
                                          job.kind, job.scenarios, job.search)
        run.future.add_done_callback(lambda future: self._finish(run, future))
        self._runs[run.id] = run
        self._forget_old()
        log.info("planner.run_queued", run=run.id, kind=job.kind, by=by,
                 expected_calls=round(job.expected_calls))
        return run

    def _finish(self, run: Run, future: asyncio.Future) -> None:
        # The worker wrote its last progress before it returned: read it, unless the
        # next run has already started and written over it.
        self._refresh(run)
        run.finished_at = datetime.now(UTC)
        run.started_at = run.started_at or run.finished_at
        executor, run.executor = run.executor, None
        if future.cancelled():
            run.status, run.error = "failed", "cancelled: the service is stopping"
            return
        error = future.exception()
        if error is None:
            run.status, run.result = "done", future.result()
            log.info("planner.run_done", run=run.id, runtime_s=run.result.get("runtime_s"))
            return
        run.status = "failed"
        if isinstance(error, ScenarioError | ValueError):
            run.error = str(error)
        elif isinstance(error, BrokenProcessPool):
            # The worker died (killed, out of memory): the next run gets a new one.
            run.error = "the planner's worker stopped; start the run again"
            if self._executor is executor:  # not a newer one already
                self._executor = None
        else:
            run.error = "the simulation failed"
        log.warning("planner.run_failed", run=run.id, error=repr(error))

    def _forget_old(self) -> None:
        finished = [key for key, run in self._runs.items() if run.status not in ACTIVE]
        for key in finished[:max(0, len(finished) - self.settings.planner_keep_runs)]:
            del self._runs[key]

    def _refresh(self, run: Run) -> None:
        """Read the worker's progress for a run it may be on."""
        if run.status not in ACTIVE or self._shared is None:
            return
        with self._shared.get_lock():
            number, done, total = self._shared[:]
        if number == run.number:
            run.status = "running"
            run.started_at = run.started_at or datetime.now(UTC)
            run.done, run.total = done, total

    def get_run(self, run_id: str) -> Run:
        """The run `run_id` of this instance, its progress fresh; NotFound when it is
        not (or no longer) kept here."""
        run = self._runs.get(run_id)
        if run is None:
            raise NotFound(f"no such planner run: {run_id[:40]}")
        self._refresh(run)
        return run

    def get_runs(self) -> list[Run]:
        """The runs kept, newest first."""
        runs = list(self._runs.values())[::-1]
        for run in runs:
            self._refresh(run)
        return runs

    def close(self) -> None:
        """Stop the worker: runs waiting are cancelled, the one running is ended (its
        process is terminated rather than waited for)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        # ProcessPoolExecutor offers no way to end a running job before Python 3.14's
        # terminate_workers(); its worker processes are in `_processes`.
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(timeout=5)
                if process.is_alive():  # SIGTERM not acted on in time: no second chance
                    process.kill()
                    process.join(timeout=5)


# The page's ready-made scenarios: (name, teams as (code, site, kind, shifts), extra
# fields). The first is the demo's seven teams as they are; the others are
# docs/planner.md's examples.
PRESETS = [
    ("Demo: 7 tim sekarang", [
        ("RSUD-1", "RSUD Andi Makkasau", "als", [[0, 24]]),
        ("RSUD-2", "RSUD Andi Makkasau", "als", [[0, 24]]),
        ("LKS", "Puskesmas Lakessi", "bls", [[0, 24]]),
        ("LPD", "Puskesmas Lappadde", "bls", [[0, 24]]),
        ("LMP", "Puskesmas Lompoe", "bls", [[0, 24]]),
        ("MNM", "Puskesmas Madising Na Mario", "bls", [[7, 15]]),
        ("CMP-R", "Puskesmas Cempae", "motorbike", [[7, 15]])],
     {"required_kinds": {"any": 0.85, "als": 0.075, "motorbike": 0.075}}),
    ("2 tim di RSUD", [("RSUD-1", "RSUD Andi Makkasau", "als", [[0, 24]]),
                       ("RSUD-2", "RSUD Andi Makkasau", "als", [[0, 24]])], {}),
    ("3 pangkalan", [("RSUD-1", "RSUD Andi Makkasau", "als", [[0, 24]]),
                     ("LKS", "Puskesmas Lakessi", "als", [[0, 24]]),
                     ("LMP", "Puskesmas Lompoe", "als", [[0, 24]])], {}),
]


def get_presets(sites: list[dict]) -> list[dict]:
    """PRESETS as scenarios (teams at the city's sites of those names)."""
    where = {site["name"]: {"lat": site["lat"], "lon": site["lon"]} for site in sites}
    return [{"name": name, "calls_per_hour": 1.0, **extra,
             "teams": [{"code": code, "base": where[site], "base_name": site, "kind": kind,
                        "shifts": shifts} for code, site, kind, shifts in teams]}
            for name, teams, extra in PRESETS if all(t[1] in where for t in teams)]
