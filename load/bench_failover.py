"""Line failover detection time against its bound, over induced failovers.

Two sipp peers on 127.0.0.1 answer SIP OPTIONS for the primary 112 line and its
backup. Each round waits a random part of a probe interval (so that kills fall
at every phase of the probe cadence), kills the primary's sipp, and times from
just before the kill to the `line.state` event, on an operator's websocket, that
makes the backup active. Then it restarts the primary's sipp and times the
failback. The bound is fail_after x interval_s + timeout_s + 1 s. A killed sipp's
port answers probes with ICMP "port unreachable" at once; with --freeze sipp is
stopped instead (SIGSTOP, a hung PBX), so that each failing probe waits out its
timeout, the slow case of the bound.

    .venv/bin/python -m load.bench_failover [--failovers 20] [--interval 0.5]
        [--timeout 0.5] [--fail-after 3] [--recover-after 2] [--freeze] [--in-process]

DATABASE_URL names a server to make a fresh database on (dropped afterwards);
without it an embedded PostgreSQL is started in a temp dir and removed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from db.pool import connect
from load.common import fresh_database, machine, percentile
from load.service import service_in_process, service_process
from realtime.client import EventClient
from tests.lines_support import create_line, next_event, sip_line, wait_states
from tests.sip_peer import SippPeer
from tests.support import Api, create_users, ws_url

MAX_ROUNDS = 200
EVENT_WAIT_S = 30.0


def bound_s(args: argparse.Namespace) -> float:
    return args.fail_after * args.interval + args.timeout + 1.0


def probe(args: argparse.Namespace) -> dict:
    return {"interval_s": args.interval, "timeout_s": args.timeout,
            "fail_after": args.fail_after, "recover_after": args.recover_after}


async def one_round(api: Api, desk: EventClient, primary: SippPeer, lines: tuple[dict, dict],
                    args: argparse.Namespace, rng: random.Random) -> tuple[float, float]:
    """Kill (or freeze) the primary, time the failover; restart (thaw) it, time the
    failback."""
    first, second = lines
    await asyncio.sleep(rng.uniform(0, args.interval))
    killed = time.monotonic()
    if args.freeze:
        primary.freeze()
    else:
        primary.kill()
    await next_event(desk, "line.state", EVENT_WAIT_S,
                     lambda data: data["active_line_id"] == second["id"])
    detected = time.monotonic() - killed
    restarted = time.monotonic()
    if args.freeze:
        primary.thaw()
    else:
        await primary.start()
    await next_event(desk, "line.state", EVENT_WAIT_S,
                     lambda data: data["active_line_id"] == first["id"])
    return detected, time.monotonic() - restarted


def report(args: argparse.Namespace, origin: str, detections: list[float],
           failbacks: list[float]) -> None:
    bound, ordered = bound_s(args), sorted(detections)
    within = sum(1 for value in detections if value <= bound)
    print("dispatch112 line failover benchmark")
    print(f"  machine      {machine()}")
    print(f"  PostgreSQL   {origin}")
    print(f"  service      {'in this process' if args.in_process else 'own process'}")
    failure = ("frozen (SIGSTOP): silence, no ICMP" if args.freeze
               else "killed (SIGKILL): ICMP port unreachable")
    print(f"  failure      primary's sipp {failure}")
    print(f"  probe        sip_options interval {args.interval:g} s, timeout {args.timeout:g} s,"
          f" fail_after {args.fail_after}, recover_after {args.recover_after}")
    print(f"  bound        fail_after x interval + timeout + 1 s = {bound:.2f} s")
    print(f"detection     median {statistics.median(ordered):.3f} s  "
          f"p90 {percentile(ordered, 90):.3f} s  max {ordered[-1]:.3f} s  "
          f"min {ordered[0]:.3f} s  (n={len(ordered)})")
    print(f"within bound  {within}/{len(ordered)}")
    back = sorted(failbacks)
    print(f"failback      median {statistics.median(back):.3f} s  max {back[-1]:.3f} s  "
          f"(sipp back to the line.state making the primary active again)")


async def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("DISPATCH112_LINE_POLL_S", "0.5")
    rng = random.Random(args.seed)
    log_dir = Path(tempfile.mkdtemp(prefix="d112-failover-"))
    async with fresh_database(fast=args.fast) as database, AsyncExitStack() as stack:
        conn = await connect(database.dsn)
        try:
            await create_users(conn)
        finally:
            await conn.close()
        service = (service_in_process(database.dsn) if args.in_process else
                   service_process(database.dsn, log_dir / "service.log", "warning"))
        base_url, _ = await stack.enter_async_context(service)
        api = await stack.enter_async_context(Api(base_url, database.dsn))
        await api.login_all()
        primary = await stack.enter_async_context(SippPeer())
        backup = await stack.enter_async_context(SippPeer())
        first = await create_line(api, sip_line("112", 0, primary.port, **probe(args)))
        second = await create_line(api, sip_line("0421-21112", 1, backup.port, **probe(args)))
        await wait_states(api, {first["id"]: "up", second["id"]: "up"}, timeout_s=30)
        desk = await stack.enter_async_context(
            EventClient(ws_url(base_url), api.tokens["operator"]))
        detections, failbacks = [], []
        for number in range(1, args.failovers + 1):
            detected, failback = await one_round(api, desk, primary, (first, second), args,
                                                 rng)
            detections.append(detected)
            failbacks.append(failback)
            print(f"  failover {number:3d}: detected in {detected:.3f} s, "
                  f"failback in {failback:.3f} s", flush=True)
        report(args, f"{database.server_version} ({database.origin})", detections, failbacks)
    shutil.rmtree(log_dir, ignore_errors=True)
    return 0 if max(detections) <= bound_s(args) else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m load.bench_failover",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--failovers", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="probe interval_s")
    parser.add_argument("--timeout", type=float, default=0.5, help="probe timeout_s")
    parser.add_argument("--fail-after", type=int, default=3)
    parser.add_argument("--recover-after", type=int, default=2)
    parser.add_argument("--seed", type=int, default=112)
    parser.add_argument("--in-process", action="store_true",
                        help="serve in this process instead of a `dispatch112 serve`")
    parser.add_argument("--fast", action="store_true", help="embedded PostgreSQL, fsync off")
    parser.add_argument("--freeze", action="store_true",
                        help="freeze the primary's sipp (SIGSTOP) instead of killing it: "
                             "probes then wait for their timeout")
    args = parser.parse_args(argv)
    if not 1 <= args.failovers <= MAX_ROUNDS:
        parser.error(f"--failovers must be 1..{MAX_ROUNDS}")
    if not (0.1 <= args.interval <= 10 and 0.05 <= args.timeout <= 10):
        parser.error("--interval must be 0.1..10 s and --timeout 0.05..10 s")
    return args


def main(argv: list[str] | None = None) -> None:
    if shutil.which("sipp") is None:
        sys.exit("sipp is not installed (Debian package sip-tester; `make test-deps`)")
    sys.exit(asyncio.run(run(parse_args(argv))))


if __name__ == "__main__":
    main()
