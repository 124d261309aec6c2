"""The `dispatch112` command: serve, migrate, user create, token create and revoke, demo,
city load, districts and places import, roads import and check, plan (the what-if
planner)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import signal
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from db.migrate import migrate
from db.pool import connect
from dispatch.cities import DEFAULT_PACK, LEVELS, pack_names
from dispatch.config import Settings, SettingsError
from dispatch.vocabulary import USER_ROLES

# A gateway's token lasts at most this long (`token create --ttl-days`).
MAX_TOKEN_DAYS = 3660


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """Settings with a database_url: DATABASE_URL, else the embedded server under
    data_dir, which is stopped again on the way out if this command started it."""
    if settings.database_url:
        yield settings
        return
    from db.embedded import EmbeddedPostgres
    server = EmbeddedPostgres(settings.data_dir)
    started_here = not server.is_running()
    try:
        yield replace(settings, database_url=server.start(), embedded=True)
    finally:
        if started_here:
            server.stop()


async def _run_migrations(dsn: str) -> list[str]:
    conn = await connect(dsn)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


async def _in_transaction(dsn: str, work) -> object:
    conn = await connect(dsn)
    try:
        async with conn.transaction():
            return await work(conn)
    finally:
        await conn.close()


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    applied = asyncio.run(_run_migrations(settings.database_url))
    print("applied: " + ", ".join(applied) if applied else "database is up to date")
    return 0


def cmd_user_create(settings: Settings, args: argparse.Namespace) -> int:
    from db import tokens as tokens_db
    from db import users as users_db
    from dispatch.auth.service import hash_secret
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else args.password
    if not password or len(password) < 8:
        print("error: the password needs at least 8 characters", file=sys.stderr)
        return 2
    asyncio.run(_run_migrations(settings.database_url))

    async def work(conn):
        user = await users_db.upsert_user(conn, args.username, await hash_secret(password),
                                          args.role)
        await tokens_db.revoke_user_tokens(conn, user["id"])
        return user
    user = asyncio.run(_in_transaction(settings.database_url, work))
    print(f"user {user['username']} ({user['role']}) saved")
    return 0


def cmd_token_create(settings: Settings, args: argparse.Namespace) -> int:
    """A long-lived token for a gateway user, printed once (stored as its digest)."""
    from dispatch.auth.service import TokenRefused, do_issue_long_lived_token
    asyncio.run(_run_migrations(settings.database_url))
    try:
        issued = asyncio.run(_in_transaction(
            settings.database_url,
            lambda conn: do_issue_long_lived_token(conn, args.username, args.ttl_days)))
    except TokenRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"token for {args.username} ({issued.role}), valid until "
          f"{issued.expires_at.isoformat(timespec='seconds')}; shown only this once:",
          file=sys.stderr)
    print(issued.token)
    return 0


def cmd_token_revoke(settings: Settings, args: argparse.Namespace) -> int:
    """Revoke every live token of a user (a gateway's, or anyone's)."""
    from dispatch.auth.service import TokenRefused, do_revoke_user_tokens
    asyncio.run(_run_migrations(settings.database_url))
    try:
        count = asyncio.run(_in_transaction(
            settings.database_url, lambda conn: do_revoke_user_tokens(conn, args.username)))
    except TokenRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"revoked {count} token(s) of {args.username}")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.demo import DemoRefused, describe_logins, do_load_demo
    asyncio.run(_run_migrations(settings.database_url))
    try:
        loaded = asyncio.run(_in_transaction(
            settings.database_url,
            lambda conn: do_load_demo(conn, settings.timezone, force=args.force)))
    except DemoRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(loaded.describe())
    if args.history:
        from dispatch.history import HistoryError, do_load_history

        async def history(conn):
            return await do_load_history(conn, days=args.history, seed=args.seed,
                                         timezone=settings.timezone,
                                         ack_timeout_s=settings.ack_timeout_s)
        try:
            print(asyncio.run(_in_transaction(settings.database_url, history)).describe())
        except HistoryError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(describe_logins(loaded.changed))
    return 0


def _ttl_days(text: str) -> int:
    days = int(text)
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_TOKEN_DAYS} days")
    return days


def _history_days(text: str) -> int:
    days = int(text)
    if not 0 <= days <= 3660:
        raise argparse.ArgumentTypeError("between 0 and 3660 days")
    return days


def _import_geojson(settings: Settings, path: str, read, store, what: str) -> int:
    """Read a GeoJSON file with `read(path)`, then `store(conn, items)` in one
    transaction; exit code 2 with the reason when the file cannot be used."""
    from dispatch.geo.districts import DistrictImportError
    try:
        items = read(Path(path))
    except DistrictImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    asyncio.run(_run_migrations(settings.database_url))
    count = asyncio.run(_in_transaction(settings.database_url,
                                        lambda conn: store(conn, items)))
    print(f"imported {count} {what} from {path}")
    return 0


def cmd_districts_import(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.geo.districts import do_import_districts, read_geojson_districts
    return _import_geojson(settings, args.file,
                           lambda path: read_geojson_districts(path, args.name_property),
                           lambda conn, items: do_import_districts(conn, items, args.level),
                           f"districts ({args.level})")


def cmd_city_load(settings: Settings, args: argparse.Namespace) -> int:
    """Load a city pack shipped with the package (kecamatan, kelurahan, facilities)."""
    from dispatch.cities import load_pack
    from dispatch.cities.loader import do_load_city
    pack = load_pack(args.name)
    asyncio.run(_run_migrations(settings.database_url))
    loaded = asyncio.run(_in_transaction(settings.database_url,
                                         lambda conn: do_load_city(conn, pack)))
    print(f"loaded the city pack {loaded.describe(pack.name)}")
    return 0


def cmd_places_import(settings: Settings, args: argparse.Namespace) -> int:
    from dispatch.geo.places import do_import_places, read_geojson_places
    return _import_geojson(settings, args.file,
                           lambda path: read_geojson_places(path, args.name_property),
                           lambda conn, items: do_import_places(conn, args.kind, items),
                           f"places ({args.kind})")


def _roads_extract(settings: Settings, file: str | None) -> Path | None:
    """FILE, else the extract DISPATCH112_ROUTER names (osm:PATH); None if neither."""
    if file:
        return Path(file)
    kind, _, path = settings.router.partition(":")
    return Path(path) if kind == "osm" else None


def _road_graph(settings: Settings, file: str | None) -> tuple[Path, object, float]:
    """The extract named (or DISPATCH112_ROUTER's), its graph and the seconds it took.
    Without one, says why on stderr and exits 2."""
    from dispatch.roads import do_import
    from routing.roads import ExtractError
    extract = _roads_extract(settings, file)
    if extract is None:
        _exit_2("name an extract (FILE.osm.pbf) or set DISPATCH112_ROUTER=osm:PATH")
    try:
        graph, seconds = do_import(extract)
    except ExtractError as exc:
        _exit_2(str(exc))
    return extract, graph, seconds


def _exit_2(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def cmd_roads_import(settings: Settings, args: argparse.Namespace) -> int:
    """Build the road graph of an extract and cache it beside the file."""
    from dispatch.roads import describe_import
    extract, graph, seconds = _road_graph(settings, args.file)
    print(describe_import(extract, graph, seconds))
    return 0


def cmd_roads_check(settings: Settings, args: argparse.Namespace) -> int:
    """The graph's size and pieces, and the teams' bases it cannot serve (exit 1)."""
    from dispatch.roads import get_base_problems, get_summary, get_teams
    extract, graph, _ = _road_graph(settings, args.file)
    print(f"{extract}: {get_summary(graph).describe()}")
    with database(settings) as ready:
        asyncio.run(_run_migrations(ready.database_url))
        teams = asyncio.run(_in_transaction(ready.database_url, get_teams))
    problems = get_base_problems(graph, teams)
    print(f"bases: {len(teams) - len(problems)} of {len(teams)} on the city's roads")
    for line in problems:
        print(f"  {line}")
    return 1 if problems else 0


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def raise_open_file_limit() -> int:
    """Every websocket is a file descriptor: lift the soft limit to the hard one, since
    a common default of 1024 would refuse phones past a thousand and leave asyncio
    spinning on accept(). Returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def _event_loop() -> str:
    """uvloop when installed (it is a dependency off Windows): every socket write and
    timer of thousands of connections goes through the loop, and uvloop does those in
    C (docs/performance.md)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from dispatch.app import create_app
    from dispatch.logs import configure_logging
    configure_logging(settings.log_level)
    files = raise_open_file_limit()
    asyncio.run(_run_migrations(settings.database_url))
    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into SystemExit
    # so that the embedded server is stopped on the way out.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    print(f"dispatch112 serving on http://{args.host}:{args.port}/  "
          f"(operators: /login, teams: /team/login; up to {files} open connections)",
          flush=True)
    # Protocol pings every ws_ping_s; a socket whose pong is that late is closed. The
    # client's address (login throttling) comes from X-Forwarded-For only when sent by
    # one of the proxies DISPATCH112_FORWARDED_ALLOW_IPS names.
    proxies = settings.forwarded_allow_ips
    app = create_app(settings)
    app.state.tune_gc = True  # a long-running process: dispatch/runtime.py
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning",
                proxy_headers=proxies is not None, forwarded_allow_ips=proxies,
                ws_ping_interval=settings.ws_ping_s,
                ws_ping_timeout=settings.ws_ping_s, ws_max_size=64 * 1024,
                ws_per_message_deflate=settings.ws_deflate, loop=_event_loop())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dispatch112", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply pending migrations").set_defaults(func=cmd_migrate)
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command",
                                                                      required=True)
    create = user.add_parser("create", help="create or reset a user")
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=USER_ROLES)
    secret = create.add_mutually_exclusive_group(required=True)
    secret.add_argument("--password")
    secret.add_argument("--password-stdin", action="store_true")
    create.set_defaults(func=cmd_user_create)
    token = sub.add_parser("token", help="long-lived tokens of gateway users").add_subparsers(
        dest="token_command", required=True)
    issue = token.add_parser("create", help="print a new long-lived token of a gateway user")
    issue.add_argument("username")
    issue.add_argument("--ttl-days", type=_ttl_days, default=365, metavar="N",
                       help="valid for N days (default 365)")
    issue.set_defaults(func=cmd_token_create)
    revoke = token.add_parser("revoke", help="revoke every token of a user")
    revoke.add_argument("username")
    revoke.set_defaults(func=cmd_token_revoke)
    demo = sub.add_parser("demo", help="load the Parepare demo")
    demo.add_argument("--history", type=_history_days, default=0, metavar="DAYS",
                      help="also make up the last DAYS days of calls and incidents (once)")
    demo.add_argument("--seed", type=int, default=112, help="of the history (default 112)")
    demo.add_argument("--force", action="store_true",
                      help="load even beside real data (still never overwriting a row)")
    demo.set_defaults(func=cmd_demo)
    districts = sub.add_parser("districts", help="district boundaries").add_subparsers(
        dest="districts_command", required=True)
    load = districts.add_parser("import", help="import boundaries from GeoJSON")
    load.add_argument("file")
    load.add_argument("--name-property", default=None)
    load.add_argument("--level", default="kecamatan", choices=LEVELS,
                      help="kecamatan (incidents are located in these) or kelurahan (map)")
    load.set_defaults(func=cmd_districts_import)
    city = sub.add_parser("city", help="the city packs shipped with dispatch112")
    city_load = city.add_subparsers(dest="city_command", required=True).add_parser(
        "load", help="load a city's kecamatan, kelurahan and health facilities")
    city_load.add_argument("name", nargs="?", default=DEFAULT_PACK, choices=pack_names(),
                           help=f"a shipped pack (default {DEFAULT_PACK})")
    city_load.set_defaults(func=cmd_city_load)
    places = sub.add_parser("places", help="the gazetteer operators search").add_subparsers(
        dest="places_command", required=True)
    add = places.add_parser("import", help="import named places from GeoJSON")
    add.add_argument("file")
    add.add_argument("--kind", default="tempat", help="e.g. kelurahan, faskes, landmark")
    add.add_argument("--name-property", default=None)
    add.set_defaults(func=cmd_places_import)
    roads = sub.add_parser("roads", help="the road graph of an OpenStreetMap extract")
    roads_sub = roads.add_subparsers(dest="roads_command", required=True)
    build = roads_sub.add_parser("import", help="build the road graph of an extract and "
                                 "cache it beside the file")
    build.add_argument("file", nargs="?", help="FILE.osm.pbf (default: DISPATCH112_ROUTER's)")
    build.set_defaults(func=cmd_roads_import, database=False)
    check = roads_sub.add_parser("check", help="nodes, edges, connected pieces, and the "
                                 "teams' bases the roads cannot serve (exit 1)")
    check.add_argument("file", nargs="?", help="FILE.osm.pbf (default: DISPATCH112_ROUTER's)")
    check.set_defaults(func=cmd_roads_check, database=False)
    from dispatch.planner.command import add_parser, cmd_plan
    add_parser(sub).set_defaults(func=cmd_plan, database=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not getattr(args, "database", True):  # opens the database itself, if at all
        return args.func(settings, args)
    with database(settings) as ready:
        return args.func(ready, args)


if __name__ == "__main__":
    sys.exit(main())
