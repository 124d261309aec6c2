"""`dispatch112 plan`: run, compare or search scenarios from the command line, as a
table or as JSON (`--json`). Exit code 2, with every wrong field named, for a
scenario or sites file that cannot be used."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import asyncpg

from dispatch.planner.demand import get_demand
from dispatch.planner.run import compare_scenarios, get_router, run_scenario
from dispatch.planner.scenario import ScenarioError, load_scenario
from dispatch.planner.search import city_sites, search_bases
from dispatch.vocabulary import TEAM_KINDS


def add_parser(sub) -> argparse.ArgumentParser:
    plan = sub.add_parser("plan", help="the what-if planner (no database needed)")
    plan.add_argument("scenario", nargs="+", metavar="SCENARIO",
                      help="scenario file(s), JSON; several are compared on the same calls")
    plan.add_argument("--json", action="store_true", help="print the results as JSON")
    plan.add_argument("--replications", type=int, default=None, metavar="N")
    plan.add_argument("--days", type=int, default=None, metavar="D")
    plan.add_argument("--seed", type=int, default=None, metavar="S")
    plan.add_argument("--search-bases", type=int, default=None, metavar="K",
                      help="find the best K new bases (one team each) among --sites")
    plan.add_argument("--sites", default=None, metavar="FILE",
                      help="candidate sites: GeoJSON points with a name, or a JSON list of "
                           '{"name","lat","lon"}; default the city\'s health facilities')
    plan.add_argument("--top", type=int, default=3, metavar="N", help="sets of bases to show")
    plan.add_argument("--kind", default="als", choices=TEAM_KINDS,
                      help="kind of the new teams (--search-bases)")
    plan.add_argument("--from-db", action="store_true",
                      help="fit the call rate and step times the scenario does not give from "
                           "the service's history (DATABASE_URL, else the embedded server), "
                           "and route as the service does (DISPATCH112_ROUTER)")
    plan.add_argument("--history-days", type=int, default=90, metavar="DAYS",
                      help="the history --from-db reads: the last DAYS whole days (default 90)")
    return plan


def fit_from_database(settings, days: int) -> dict:
    """Fields fitted from the service's history (see dispatch/planner/history.py)."""
    import asyncio

    from db.migrate import migrate
    from db.pool import connect
    from dispatch.cli import database
    from dispatch.planner.history import get_fitted

    async def fit(dsn: str) -> dict:
        conn = await connect(dsn)
        try:
            await migrate(conn)  # as every command that opens the database does
            async with conn.transaction(readonly=True):
                return await get_fitted(conn, timezone=settings.timezone, days=days)
        finally:
            await conn.close()
    with database(settings) as ready:
        return asyncio.run(fit(ready.database_url))


def read_sites(path: str) -> list[dict]:
    """Candidate sites from a file; ScenarioError naming what is wrong."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ScenarioError([("--sites", f"cannot read {path}: {exc}")]) from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        data = [{"name": (f.get("properties") or {}).get("name", f"#{n}"),
                 "lat": (f.get("geometry") or {}).get("coordinates", [None, None])[1],
                 "lon": (f.get("geometry") or {}).get("coordinates", [None, None])[0]}
                for n, f in enumerate(data.get("features") or [])]
    if not isinstance(data, list) or not data:
        raise ScenarioError([("--sites", "a non-empty list of sites is needed")])
    errors = []
    for n, site in enumerate(data):
        ok = isinstance(site, dict) and all(
            isinstance(site.get(key), int | float) and not isinstance(site.get(key), bool)
            for key in ("lat", "lon"))
        if not ok or not (-90 <= site["lat"] <= 90 and -180 <= site["lon"] <= 180):
            errors.append((f"--sites[{n}]", "needs a numeric lat (-90..90) and lon (-180..180)"))
    if errors:
        raise ScenarioError(errors)
    return [{"name": str(s.get("name") or f"#{n}"), "lat": float(s["lat"]),
             "lon": float(s["lon"])} for n, s in enumerate(data)]


def _pct(value: dict) -> str:
    if value["mean"] is None:
        return "-"
    lo, hi = value["ci95"]
    return f"{100 * value['mean']:5.1f} % [{100 * lo:.1f}, {100 * hi:.1f}]"


def _min(value: dict) -> str:
    if value["mean"] is None:
        return "-"
    lo, hi = value["ci95"]
    return f"{value['mean']:5.1f} min [{lo:.1f}, {hi:.1f}]"


ROWS = (("late_share", "terlambat / late (> target)", _pct),
        ("late8_share", "> 8 min", _pct), ("mean_response_min", "rata-rata / mean", _min),
        ("p90_response_min", "P90", _min), ("p_wait", "menunggu tim / P(wait)", _pct),
        ("utilisation", "utilisasi / utilisation", _pct))


def describe(result: dict) -> str:
    """A scenario's result as a short table (means with 95 % intervals)."""
    lines = [f"{result['name']}: {result['replications']} replications x {result['days']} days, "
             f"{result['calls_per_replication']:.0f} calls each, target "
             f"{result['target_min']:g} min ({result['runtime_s']:.2f} s)"]
    lines += [f"  {label:30} {fmt(result[key])}" for key, label, fmt in ROWS]
    lines.append(f"  {'lantai jarak / distance floor':30} {100 * result['floor_share']:5.1f} %")
    worst = sorted((k for k in result["by_kelurahan"] if k["late_share"] is not None),
                   key=lambda k: -k["late_share"])[:5]
    lines.append("  most late: " + ", ".join(
        f"{k['name']} {100 * k['late_share']:.0f} %" for k in worst))
    return "\n".join(lines)


def describe_difference(diff: dict) -> str:
    lines = [f"{diff['name']} (paired, common random numbers):"]
    lines += [f"  {label:30} {fmt(diff[key])}" for key, label, fmt in ROWS]
    return "\n".join(lines)


def describe_search(found: dict) -> str:
    now = found["current"]
    lines = [f"best {found['k']} new base(s) ({found['kind']}), of "
             f"{found['sets_scored_by_floor']} sets by floor, {found['sets_simulated']} "
             f"simulated ({found['runtime_s']:.1f} s); now: late {_pct(now['late_share'])}"
             f", floor {100 * now['floor_share']:.1f} %"]
    for n, row in enumerate(found["best"], 1):
        lines.append(f"  {n}. {' + '.join(row['sites'])}: late {_pct(row['late_share'])}, "
                     f"floor {100 * row['floor_share']:.1f} %, vs best "
                     f"{_pct(row['difference_from_best']['late_share'])}")
    return "\n".join(lines)


def _progress(done: int, total: int) -> None:
    print(f"\r{done}/{total} replications", end="" if done < total else "\n",
          file=sys.stderr, flush=True)


def service_router(settings) -> dict:
    """The service's own router (DISPATCH112_ROUTER) as a scenario's `travel`, for
    --from-db runs: plan as the service allocates. Nothing for an OSRM server (the
    planner cannot call it for thousands of pairs): geodesic then."""
    spec = settings.router
    if not spec.startswith("osm:"):
        return {}
    # Absolute: a relative path in a scenario file is read beside the file, this one
    # is the service's, relative to where it runs.
    return {"travel": {"router": "osm:" + str(Path(spec.removeprefix("osm:")).resolve())}}


def cmd_plan(settings, args: argparse.Namespace) -> int:
    """Run the planner; 0, or 2 with the errors of a file that cannot be used."""
    overrides = {"replications": args.replications, "days": args.days, "seed": args.seed}
    progress = _progress if sys.stderr.isatty() and not args.json else None
    history = None
    if args.from_db:
        from dispatch.planner.history import merge_fitted
        if not 1 <= args.history_days <= 3660:
            print("error: --history-days must be between 1 and 3660", file=sys.stderr)
            return 2
        try:
            history = fit_from_database(settings, args.history_days)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            print(f"error: cannot read the service's history: {exc}", file=sys.stderr)
            return 1
        fitted = history["fields"] | service_router(settings)
        print(f"fitted from {history['incidents']} incidents ({history['from']} to "
              f"{history['to']}): {', '.join(history['fields']) or 'nothing'}; router "
              f"{fitted.get('travel', {}).get('router', 'geodesic')} unless the scenario "
              "gives travel", file=sys.stderr)
    try:
        defaults = (lambda data: merge_fitted(fitted, data)) if history else None
        scenarios = [load_scenario(path, defaults, **overrides) for path in args.scenario]
        for scenario in scenarios:
            get_demand(scenario.demand)  # a demand file that cannot be used: named now
            get_router(scenario)  # so is a road extract (its graph is loaded once)
        sites = read_sites(args.sites) if args.sites else None
        if args.search_bases is not None and not 1 <= args.search_bases <= len(
                sites or city_sites()):
            raise ScenarioError([("--search-bases", "between 1 and the number of sites")])
        if args.search_bases is not None and len(scenarios) > 1:
            raise ScenarioError([("--search-bases", "searches from one scenario at a time")])
        if not 1 <= args.top <= 100:
            raise ScenarioError([("--top", "between 1 and 100")])
    except ScenarioError as exc:
        print("error: the planner cannot use this input:", file=sys.stderr)
        for field, message in exc.errors:
            print(f"  {field}: {message}", file=sys.stderr)
        return 2
    if args.search_bases is not None:
        out = search_bases(scenarios[0], sites, k=args.search_bases, top=args.top,
                           kind=args.kind, progress=progress)
        text = describe_search(out)
    elif len(scenarios) == 1:
        out = run_scenario(scenarios[0], progress)
        text = describe(out)
    else:
        out = compare_scenarios(scenarios, progress)
        text = "\n\n".join([describe(r) for r in out["scenarios"]]
                           + [describe_difference(d) for d in out["differences"]])
    if history is not None:
        out["history"] = history
    print(json.dumps(out, indent=2) if args.json else text)
    return 0
