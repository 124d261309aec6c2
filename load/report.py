"""The load generator's figures: from what the sockets and the client recorded and what
the database holds at the end, a JSON summary and three plots (latency over time,
latency distribution, latency against offered rate), plus the profile's top frames."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import asyncpg

from load.bots import STATUS_AFTER
from load.common import percentile

TARGET_MS = 50.0


async def fetch_truth(conn: asyncpg.Connection) -> dict:
    """Every assignment and incident the database holds (the run's own are picked out
    by id later)."""
    assignments = await conn.fetch(
        "SELECT id, incident_id, team_id FROM assignments ORDER BY id")
    incidents = await conn.fetch("SELECT id, status FROM incidents")
    events = await conn.fetch("SELECT seq, name, incident_id FROM events ORDER BY seq")
    return {"assignments": [(r["incident_id"], r["team_id"]) for r in assignments],
            "incidents": {r["id"]: r["status"] for r in incidents},
            "events": [(r["seq"], r["name"], r["incident_id"]) for r in events]}


def missed_events(dashboards, events: list[tuple[int, str, int | None]]) -> dict:
    """Events of the log a dashboard (which sees every event) never received, between
    the first it received and the last any dashboard received: how many in all, and
    the first few that every dashboard missed (the hub skipped them, rather than one
    socket falling behind)."""
    watching = [d for d in dashboards if d.seqs]
    if not watching:
        return {"dashboard_events": 0, "missed_by_every_dashboard": []}
    last = max(max(d.seqs) for d in watching)
    missed: Counter = Counter()
    for d in watching:
        first = min(d.seqs)
        missed.update(seq for seq, _, _ in events if first < seq <= last and seq not in d.seqs)
    by_all = [(seq, name, incident) for seq, name, incident in events
              if missed[seq] == len(watching)]
    return {"dashboard_events": sum(missed.values()), "missed_by_every_dashboard": by_all[:20]}


def stats_ms(seconds: list[float]) -> dict:
    if not seconds:
        return {"n": 0}
    ordered = sorted(seconds)
    return {"n": len(ordered),
            **{f"p{p}_ms": round(percentile(ordered, p) * 1000, 2) for p in (50, 90, 99)},
            "max_ms": round(ordered[-1] * 1000, 2)}


def _at_wall(at: str) -> float | None:
    try:
        return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def dispatch_latencies(arrivals, teams: dict) -> tuple[list, list]:
    """[(due offset, latency s, rate, queued)] of every delivered assignment of the
    run's incidents; and the incident ids with no delivery yet."""
    points, start = [], min((a.due for a in arrivals), default=0.0)
    received = {inc: got for sock in teams.values() for inc, got in sock.assigned.items()}
    for a in arrivals:
        if a.incident_id is None:
            continue
        if not a.queued:
            got = teams.get(a.team_id) and teams[a.team_id].assigned.get(a.incident_id)
            if got:
                points.append((a.due - start, got[0] - a.due, a.rate, False))
            continue
        got = received.get(a.incident_id)  # a queued incident: from its allocation event
        at = _at_wall(got[2]) if got else None
        if at is not None:
            points.append((a.due - start, max(0.0, got[1] - at), a.rate, True))
    return points, []


def dispatch_parts(arrivals, teams: dict) -> dict:
    """Where the dispatch latency of the directly assigned calls went: from its due time
    to the POST leaving the generator, the POST itself, and from its answer to the
    assignment on the team's socket (negative: the frame came first); and the five
    slowest calls, each so divided (ms)."""
    parts = []
    for a in arrivals:
        got = (a.incident_id is not None and not a.queued and a.sent and a.answered
               and teams.get(a.team_id) and teams[a.team_id].assigned.get(a.incident_id))
        if got:
            parts.append((got[0] - a.due, a.sent - a.due, a.answered - a.sent,
                          got[0] - a.answered, a.server_ms))
    slowest = sorted(parts, reverse=True)[:5]
    return {"before_sending": stats_ms([p[1] for p in parts]),
            "post": stats_ms([p[2] for p in parts]),
            "frame_after_answer": stats_ms([p[3] for p in parts]),
            "slowest": [{"total_ms": round(t * 1000, 1), "before_sending_ms": round(b * 1000, 1),
                         "post_ms": round(h * 1000, 1), "in_service_ms": server,
                         "frame_after_answer_ms": round(f * 1000, 1)}
                        for t, b, h, f, server in slowest]}


def step_latencies(tally, dashboards) -> list[float]:
    """From a bot's status frame to the incident's new status on each dashboard."""
    values = []
    for (incident_id, action), sent in tally.steps_sent.items():
        key = (incident_id, STATUS_AFTER[action])
        values += [d.statuses[key] - sent for d in dashboards if key in d.statuses]
    return values


def summarise(arrivals, socks, tally, truth: dict, args) -> dict:
    teams = {s.team_id: s for s in socks if s.role == "responder"}
    dashboards = [s for s in socks if s.role == "dashboard"]
    ours = {a.incident_id for a in arrivals if a.incident_id is not None}
    points, _ = dispatch_latencies(arrivals, teams)
    # Lost: an assignment of the run's incidents that never reached its team's socket,
    # an incident.created of the run missing on a dashboard.
    lost_team = sum(1 for inc, team in truth["assignments"]
                    if inc in ours and inc not in getattr(teams.get(team), "assigned", {}))
    lost_dash = sum(1 for d in dashboards for inc in ours if inc not in d.created)
    # Which side lost it: an incident whose incident.created is not even in the log.
    logged = {incident for _, name, incident in truth["events"] if name == "incident.created"}
    unlogged = sorted(inc for inc in ours if inc not in logged)
    doubled = sum(s.doubled for s in socks)
    by_rate = defaultdict(list)
    for _, latency, rate, _ in points:
        by_rate[rate].append(latency)
    http = [a.answered - a.due for a in arrivals if a.answered]
    errors = Counter(a.error for a in arrivals if a.error)
    closed = Counter(s.closed for s in socks if s.closed and "by the generator" not in s.closed)
    statuses = Counter(truth["incidents"][i] for i in ours if i in truth["incidents"])
    return {
        "dispatch_latency": stats_ms([p[1] for p in points]),
        "dispatch_latency_direct": stats_ms([p[1] for p in points if not p[3]]),
        "dispatch_latency_queued": stats_ms([p[1] for p in points if p[3]]),
        "dispatch_parts": dispatch_parts(arrivals, teams),
        "by_rate": {str(r): {"offered_per_s": r,
                             "calls": sum(1 for a in arrivals if a.rate == r),
                             "achieved_per_s": round(sum(1 for a in arrivals if a.rate == r
                                                         and a.answered) / args.seconds, 1),
                             **stats_ms(v)} for r, v in sorted(by_rate.items())},
        "http_latency": stats_ms(http),
        "http_latency_incidents": stats_ms([a.answered - a.due for a in arrivals
                                            if a.answered and a.kind == "incident"]),
        # The same POSTs as the service timed them (Server-Timing): the rest of the
        # HTTP latency is the generator, the kernel and the wait for the event loop.
        "service_time_incidents": stats_ms([a.server_ms / 1000 for a in arrivals
                                            if a.server_ms is not None
                                            and a.kind == "incident"]),
        "step_to_dashboard": stats_ms(step_latencies(tally, dashboards)),
        "calls": dict(Counter(a.kind for a in arrivals)),
        "incidents": {"posted": len(ours), "queued_at_post": sum(a.queued for a in arrivals),
                      "final_status": dict(statuses)},
        "steps_sent": len(tally.steps_sent), "steps_resent_after_503": tally.resent,
        "walks_done": tally.walks_done,
        "ws_results": dict(tally.results), "ws_refusals": dict(tally.refused.most_common(5)),
        "errors": dict(errors), "sockets_closed": dict(closed),
        "lost": {"assignments": lost_team, "dashboard_incident_created": lost_dash,
                 **missed_events(dashboards, truth["events"]),
                 "incidents_without_events": unlogged[:20]},
        "doubled": doubled,
        "foreign_events": sum(s.foreign for s in socks),
        "_points": points,
    }


def summarise_collections(collections: list[tuple[int, float]]) -> dict:
    """Slow garbage collections per generation: how many, the longest, in all (ms)."""
    out = {}
    for generation in sorted({g for g, _ in collections}):
        pauses = [ms for g, ms in collections if g == generation]
        out[f"gen{generation}"] = {"n": len(pauses), "max_ms": max(pauses),
                                   "total_ms": round(sum(pauses), 1)}
    return out


def _plots(points: list, summary: dict, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    if not points:
        return
    xs, ys = [p[0] for p in points], [p[1] * 1000 for p in points]
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.scatter(xs, ys, s=2, alpha=0.5)
    ax.axhline(TARGET_MS, color="red", lw=0.8, label=f"{TARGET_MS:g} ms target")
    ax.set(xlabel="seconds into the run", ylabel="POST → assignment.created (ms)",
           yscale="log", title="End-to-end dispatch latency over time")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "latency_over_time.png", dpi=110)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 4))
    ordered = sorted(ys)
    ax.plot(ordered, [i / len(ordered) for i in range(1, len(ordered) + 1)])
    ax.axvline(TARGET_MS, color="red", lw=0.8)
    ax.set(xscale="log", xlabel="ms", ylabel="share of incidents at or below",
           title="Dispatch latency distribution")
    fig.tight_layout()
    fig.savefig(out / "latency_distribution.png", dpi=110)
    plt.close(fig)
    rates = summary["by_rate"]
    fig, ax = plt.subplots(figsize=(7, 4))
    offered = [v["offered_per_s"] for v in rates.values()]
    for key in ("p50_ms", "p99_ms"):
        ax.plot(offered, [v.get(key) for v in rates.values()], marker="o", label=key[:3])
    ax.axhline(TARGET_MS, color="red", lw=0.8)
    ax.set(xlabel="offered incidents per second", ylabel="ms", yscale="log",
           title="Dispatch latency against offered rate")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "latency_vs_rate.png", dpi=110)
    plt.close(fig)


def profile_top(raw: Path, top: int = 25) -> dict:
    """From py-spy's collapsed stacks: the share of samples in which each function is on
    the stack (inclusive) and at its top (self)."""
    inclusive, own, total = Counter(), Counter(), 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n, frames = int(count), stack.split(";")
        total += n
        own[frames[-1]] += n
        for name in set(frames):
            inclusive[name] += n
    share = (lambda c: {k: round(100 * v / total, 1) for k, v in c.most_common(top)}) \
        if total else (lambda c: {})
    return {"samples": total, "self_percent": share(own), "inclusive_percent": share(inclusive)}


def _over(value: float | None, base: float) -> float | None:
    return None if value is None or not base else round(value / base, 2)


def baseline_ratios(summary: dict) -> dict:
    """Target 4's ratios, from the run's own baselines: the highest rate answered
    against the bare database loop's (without the old lock); each phase's dispatch p99
    against the bare broadcast's p99, and against that plus one allocation's p99 on
    the idle database (what PostgreSQL and the socket layer alone allow together); the
    dispatch's broadcast part (the POST's answer to the team's frame) against the
    bare broadcast; and that one allocation's p99 against the bare broadcast's, the
    floor of the second ratio for any service that stores an assignment before it
    tells the team."""
    db, ws_p99 = summary["baselines"]["db"], summary["baselines"]["ws"]["p99_ms"]
    alone = db["one_at_a_time"]["p99_ms"] + ws_p99
    phases = summary["by_rate"]
    return {
        "rate": _over(max(v["achieved_per_s"] for v in phases.values()),
                      db["without_lock"]["rate_per_s"]),
        "p99_over_broadcast": {r: _over(v.get("p99_ms"), ws_p99) for r, v in phases.items()},
        "p99_over_database_and_broadcast": {r: _over(v.get("p99_ms"), alone)
                                            for r, v in phases.items()},
        "frame_after_answer_p99_over_broadcast": _over(
            summary["dispatch_parts"]["frame_after_answer"].get("p99_ms"), ws_p99),
        "database_alone_p99_over_broadcast": _over(db["one_at_a_time"]["p99_ms"], ws_p99)}


def write(summary: dict, out: Path) -> int:
    """summary.json and the plots into `out`; print the headline; the failure count."""
    points = summary.pop("_points", [])
    if (out / "profile.raw").exists():
        summary["profile"] = profile_top(out / "profile.raw")
    _plots(points, summary, out)
    if "baselines" in summary:
        summary["ratios"] = baseline_ratios(summary)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    d = summary["dispatch_latency"]
    print(f"dispatch latency  p50 {d.get('p50_ms')} p99 {d.get('p99_ms')} "
          f"max {d.get('max_ms')} ms (n={d['n']})")
    for rate, v in summary["by_rate"].items():
        print(f"  offered {rate}/s: p50 {v.get('p50_ms')} p99 {v.get('p99_ms')} "
              f"max {v.get('max_ms')} ms, answered {v['achieved_per_s']}/s")
    parts = summary["dispatch_parts"]
    print(f"  divided: before sending {parts['before_sending']}; POST {parts['post']}; "
          f"frame after the answer {parts['frame_after_answer']}")
    print(f"  slowest: {parts['slowest']}")
    print(f"http {summary['http_latency']}; step->dashboard {summary['step_to_dashboard']}")
    print(f"POST /incidents: as sent and answered {summary['http_latency_incidents']}; "
          f"inside the service {summary['service_time_incidents']}")
    print(f"gps fixes/s {summary['gps_fixes_per_s']}; lost {summary['lost']}; doubled "
          f"{summary['doubled']}; errors {summary['errors']}; closed {summary['sockets_closed']}")
    print(f"cpu {summary['cpu']}; slow gc {summary.get('slow_gc')}; "
          f"service loop held >= 50 ms {summary.get('slow_loop')}")
    print(f"the generator's own loop lag {summary.get('generator_loop_lag')}")
    if "pg_waits" in summary:
        waits = summary["pg_waits"]
        print(f"PostgreSQL waits (session-samples) {waits['session_samples']}; pile-ups "
              f"(s into the phases, wait, sessions) {waits['pile_ups'][:20]}")
    if "baselines" in summary:
        print(f"baselines {json.dumps(summary['baselines'])}")
        print(f"ratios to the baselines (target 4) {json.dumps(summary['ratios'])}")
    print(f"written to {out}")
    return (summary["lost"]["assignments"] + summary["lost"]["dashboard_incident_created"]
            + summary["lost"]["dashboard_events"] + len(summary["lost"]["incidents_without_events"])
            + summary["doubled"] + sum(summary["errors"].values())
            + sum(summary["sockets_closed"].values()) + summary["foreign_events"])
