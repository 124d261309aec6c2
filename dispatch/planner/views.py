"""What the planner page's API answers: a run, with or without its result."""

from __future__ import annotations

from dispatch.planner.service import Run


def run_view(run: Run, with_result: bool = True) -> dict:
    """A run as JSON: its state, progress (0..1, replications done of all) and, when
    asked for, its result (the planner's dict, docs/planner.md) or its error."""
    view = {"id": run.id, "kind": run.kind, "status": run.status,
            "progress": round(run.progress, 4), "replications_done": run.done,
            "replications_total": run.total, "by": run.by,
            "scenarios": [s.get("name") for s in run.job.scenarios],
            "search_bases": run.job.search, "expected_calls": round(run.job.expected_calls),
            "created_at": run.created_at, "started_at": run.started_at,
            "finished_at": run.finished_at, "error": run.error}
    if with_result:
        view["result"] = run.result
    return view
