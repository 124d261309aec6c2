"""`dispatch112 plan --from-db`: the call rate by weekday and hour and the step times
fitted from the service's own history, checked against the incidents read back and
computed here; fields the scenario file gives win."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np
import pytest

from dispatch.demo import do_load_demo
from dispatch.history import do_load_history
from dispatch.planner.history import get_fitted, merge_fitted

TZ = "Asia/Makassar"
ZONE = ZoneInfo(TZ)
DAYS = 28
NOW = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # a Monday, 12:00 WITA
ROOT = Path(__file__).resolve().parents[1]


async def _load(db: asyncpg.Connection) -> None:
    async with db.transaction():
        await do_load_demo(db, TZ, force=True)
        await do_load_history(db, days=DAYS, seed=112, timezone=TZ, ack_timeout_s=60, now=NOW)


async def test_rates_and_step_times_are_those_of_the_history(db: asyncpg.Connection) -> None:
    await _load(db)
    fitted = await get_fitted(db, timezone=TZ, days=DAYS + 5, now=NOW)
    rows = await db.fetch("SELECT * FROM incidents")
    end = NOW.astimezone(ZONE).replace(hour=0, minute=0, second=0, microsecond=0)
    kept = [r for r in rows if r["received_at"] < end]
    first = min(r["received_at"] for r in kept).astimezone(ZONE).date()
    dates = [first + timedelta(days=n) for n in range((end.date() - first).days)]
    per_weekday = Counter(d.weekday() for d in dates)
    counts = Counter((r["received_at"].astimezone(ZONE).weekday(),
                      r["received_at"].astimezone(ZONE).hour) for r in kept)
    table = fitted["fields"]["calls_per_hour_by_weekday_hour"]
    assert fitted["incidents"] == len(kept) > 100
    for weekday in range(7):
        for hour in range(24):
            assert table[weekday][hour] == pytest.approx(
                counts[(weekday, hour)] / per_weekday[weekday], abs=1e-4)
    closed = [r for r in kept if r["status"] == "closed"]
    on_scene = np.array([r["on_scene_s"] for r in closed if r["on_scene_s"] is not None]) / 60
    assert fitted["fields"]["on_scene_min"] == {
        "dist": "lognormal", "mean": pytest.approx(on_scene.mean(), abs=1e-3),
        "sd": pytest.approx(on_scene.std(ddof=1), abs=1e-3)}
    processing = np.array([(r["created_at"] - r["received_at"]).total_seconds()
                           for r in closed]) / 60
    assert fitted["fields"]["call_processing_min"]["mean"] == pytest.approx(
        processing.mean(), abs=1e-3)
    seen = [r for r in closed if r["on_scene_at"] is not None]
    assert fitted["fields"]["transport_share"] == pytest.approx(
        sum(r["transporting_at"] is not None for r in seen) / len(seen), abs=1e-4)
    assert sum(fitted["fields"]["priorities"].values()) == pytest.approx(1)


async def test_nothing_is_fitted_from_an_empty_history(db: asyncpg.Connection) -> None:
    assert (await get_fitted(db, timezone=TZ, days=30, now=NOW))["fields"] == {}


def test_the_file_wins_over_the_history() -> None:
    fitted = {"calls_per_hour_by_weekday_hour": [[0.3] * 24] * 7, "transport_share": 0.5,
              "on_scene_min": {"dist": "lognormal", "mean": 20, "sd": 9}}
    merged = merge_fitted(fitted, {"calls_per_hour": 2, "transport_share": 0.7, "teams": []})
    assert merged == {"calls_per_hour": 2, "transport_share": 0.7, "teams": [],
                      "on_scene_min": fitted["on_scene_min"]}


async def test_plan_from_db_uses_the_fitted_rate(db: asyncpg.Connection, dsn: str,
                                                 tmp_path: Path) -> None:
    await _load(db)
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"name": "A", "replications": 3, "days": 7,
                                "teams": [{"code": "A1",
                                           "base": {"lat": -4.034919, "lon": 119.633957}}]}))
    env = {**os.environ, "DATABASE_URL": dsn}
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "dispatch.cli", "plan", str(path), "--json",
                         "--from-db", "--history-days", "400"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    table = out["history"]["fields"]["calls_per_hour_by_weekday_hour"]
    expected = sum(map(sum, table)) / 7  # calls a day, on average over the week
    # 7 days a replication: about a week of the history's calls (Poisson, 3 replications).
    assert abs(out["calls_per_replication"] - expected * 7) < 4 * (expected * 7 / 3) ** 0.5
    assert "fitted from" in done.stderr
