"""Embedded PostgreSQL server for development, demos and tests (used when DATABASE_URL is unset).

`EmbeddedPostgres(data_dir).start()` initialises a cluster if needed, starts it (or reuses one
already running from the same data_dir), creates the database and returns a DSN such as
``postgresql://dispatch112@127.0.0.1:PORT/dispatch112``. Synchronous (subprocess based): it runs
before the asyncio loop starts and from pytest fixtures. Standard library only, so
``python3 -m db.embedded stop`` works without the project's venv.

Layout under data_dir: ``pgdata/`` (the cluster), ``run/`` (Unix socket dir; sockets are
disabled when that path is too long, the DSN uses TCP anyway), ``postgresql.log``, ``port`` (TCP
port chosen on the first start, reused afterwards) and ``.lock`` (serialises start/stop).

Security: listens on 127.0.0.1 only, trusts every local connection, superuser ``dispatch112``
without a password. Fine for a dev/demo/test server, never for production (set DATABASE_URL).

As root: PostgreSQL refuses to run as root, so initdb/pg_ctl/postgres run as the owner of an
existing non-root pgdata, else as the system user ``dispatch112`` (created with useradd if
missing), else ``nobody``; pgdata, run/ and the log are chowned to it. pgdata stays inside
data_dir: every ancestor directory of data_dir (and of the server binaries) that this account
cannot traverse gets ``chmod o+x`` (search only, no listing), logged as a warning. E.g. a
data_dir under /root makes /root 0701; pytest's 0700 /tmp/pytest-of-root dirs become 0701.

Where the server binaries come from, and the account as root: db/pgbin.py.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from db.pgbin import (  # noqa: F401 - find_bindir and the error are part of this API
    EmbeddedPostgresError,
    _Account,
    _account_for_uid,
    _grant_traversal,
    _service_user,
    find_bindir,
)

log = logging.getLogger(__name__)

SUPERUSER = "dispatch112"
HOST = "127.0.0.1"
MAX_SOCKET_PATH = 107  # Linux sun_path is 108 bytes including the trailing NUL
_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


def _clean_env() -> dict[str, str]:
    # PGHOST/PGPORT/PGDATA/... from the caller's shell would silently redirect our tools.
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _read_int(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().strip())
    return None


def _port_free(port: int) -> bool:
    # SO_REUSEADDR as PostgreSQL's own listener uses, so that TIME_WAIT leftovers of our
    # previous server do not count as "taken".
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _postgres_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    # A stale postmaster.pid may name a PID since reused by an unrelated process, and an
    # exited but unreaped postmaster lingers as a zombie: neither is a running server.
    with contextlib.suppress(OSError, ValueError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        comm, state = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2]
        return comm in ("postgres", "postmaster") and state not in "ZX"
    return True


def _conf_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def make_dsn(port: int, database: str) -> str:
    return f"postgresql://{SUPERUSER}@{HOST}:{port}/{database}"


def default_data_dir() -> Path:
    return Path(os.environ.get("DISPATCH112_DATA_DIR") or ".dispatch112")


# ------------------------------------------------------------------ the server

class EmbeddedPostgres:
    """One PostgreSQL cluster under `data_dir`; see the module docstring for layout and root."""

    def __init__(self, data_dir: Path | str, *, port: int | None = None,
                 database: str = "dispatch112", fast: bool = False, timeout: float = 60.0,
                 settings: Mapping[str, str] | None = None):
        """`fast` trades durability for speed (fsync, synchronous_commit and full_page_writes
        off; initdb --no-sync): for tests. `timeout` bounds start-up and shutdown waits (s).
        `settings`: more postgresql.conf parameters, name -> value (written quoted; one we
        set too is replaced), e.g. {"shared_preload_libraries": "pg_stat_statements"}. Like
        `fast`, they apply when this object starts the server, not to one already running."""
        if not _DB_NAME.match(database):
            raise ValueError(f"invalid database name {database!r}")
        self.settings = {name: str(value) for name, value in (settings or {}).items()}
        for name, value in self.settings.items():
            if not _SETTING_NAME.match(name) or "\n" in value or "\r" in value:
                raise ValueError(f"invalid setting {name!r}: {value!r}")
        self.data_dir = Path(data_dir).absolute()
        self.pgdata = self.data_dir / "pgdata"
        self.socket_dir = self.data_dir / "run"
        self.log_file = self.data_dir / "postgresql.log"
        self.database, self.fast, self.timeout = database, fast, timeout
        self._port_file = self.data_dir / "port"
        self._requested_port = port
        self._port: int | None = None
        self._bindir: Path | None = None
        self._account: _Account | None = None  # set when root: whom the server runs as

    @property
    def dsn(self) -> str:
        """DSN of this server: its running port, else the requested or remembered one."""
        live = self._postmaster()
        port = live[1] if live else (self._port or self._requested_port
                                     or _read_int(self._port_file))
        if port is None:
            raise EmbeddedPostgresError(f"no embedded server set up under {self.data_dir}")
        return make_dsn(port, self.database)

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_bindir()
        return self._bindir

    def is_running(self) -> bool:
        return self._postmaster() is not None

    def start(self) -> str:
        """Initialise (if absent) and start the cluster, create the database; return the DSN.

        Idempotent: a live server of this data_dir is reused. Raises EmbeddedPostgresError
        (with the tail of the server log) if the server is not accepting within `timeout`.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            live = self._postmaster()
            if live is None:
                self._prepare()
                port = self._launch()
            else:
                port = live[1]
            self._wait_ready(port)
            self._port = port
            self._ensure_database(port)
        return self.dsn

    def stop(self) -> None:
        """Fast shutdown (pg_ctl stop -m fast), returning once the server has exited; no-op
        if it is not running."""
        if not self.pgdata.is_dir():
            return
        with self._lock():
            live = self._postmaster()
            if live is None:
                return
            if os.geteuid() == 0 and self._account is None:
                st = self.pgdata.stat()
                self._account = _account_for_uid(st.st_uid, st.st_gid)
            res = self._run([self.bindir / "pg_ctl", "stop", "-D", self.pgdata, "-m", "fast",
                             "-w", "-t", str(int(self.timeout)), "-s"], as_server=True, check=False)
            # pg_ctl returns once postmaster.pid is gone, a moment before the process exits
            # and frees the port: wait for that so that a restart can bind the port again.
            deadline = time.monotonic() + self.timeout
            while _postgres_alive(live[0]) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _postgres_alive(live[0]):
                raise EmbeddedPostgresError(f"PostgreSQL (pid {live[0]}) did not stop:\n"
                                            f"{res.stderr}{self._log_tail()}")

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- start-up steps

    def _prepare(self) -> None:
        """Directories, ownership, initdb: everything before pg_ctl start."""
        for directory in (self.pgdata, self.socket_dir):
            directory.mkdir(mode=0o700, exist_ok=True)
        self.log_file.touch(exist_ok=True)
        if os.geteuid() == 0:
            st = self.pgdata.stat()
            acct = _account_for_uid(st.st_uid, st.st_gid) if st.st_uid else _service_user()
            self._account = acct
            _grant_traversal(self.data_dir, acct)
            _grant_traversal(self.bindir, acct)
            # pgdata is either ours from mkdir (still empty) or already owned by acct.
            for path in (self.pgdata, self.socket_dir, self.log_file):
                os.chown(path, acct.uid, acct.gid)
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()

    def _initdb(self) -> None:
        cmd = [self.bindir / "initdb", "-D", self.pgdata, "-U", SUPERUSER, "--auth=trust",
               "-E", "UTF8", "--locale=C"]
        if self.fast:
            cmd.append("--no-sync")
        self._run(cmd, as_server=True, timeout=max(self.timeout, 120))
        # Our settings live in a file rewritten at every start (_write_conf), so a changed
        # port or `fast` flag needs no editing of postgresql.conf.
        with open(self.pgdata / "postgresql.conf", "a") as conf:
            conf.write("\n# Managed by db/embedded.py, rewritten at every start.\n"
                       "include_if_exists = 'dispatch112.conf'\n")

    def _choose_port(self) -> int:
        port = self._requested_port or _read_int(self._port_file)
        if not self._requested_port and port is not None and not _port_free(port):
            log.warning("remembered port %d is taken by another process; choosing anew", port)
            port = None
        port = port or _free_port()
        if _read_int(self._port_file) != port:
            self._port_file.write_text(f"{port}\n")
        return port

    def _write_conf(self, port: int) -> None:
        sockets = str(self.socket_dir)
        if len(f"{sockets}/.s.PGSQL.{port}") > MAX_SOCKET_PATH:
            sockets = ""  # too long for a Unix socket: TCP only
        settings = {"listen_addresses": _conf_quote(HOST), "port": str(port),
                    "unix_socket_directories": _conf_quote(sockets), "max_connections": "200",
                    "shared_buffers": "'128MB'", "logging_collector": "off"}
        if self.fast:
            settings.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        settings.update({name: _conf_quote(value) for name, value in self.settings.items()})
        conf = self.pgdata / "dispatch112.conf"
        conf.write_text("".join(f"{k} = {v}\n" for k, v in settings.items()))
        if self._account is not None:
            os.chown(conf, self._account.uid, self._account.gid)

    def _launch(self) -> int:
        port = self._choose_port()
        self._write_conf(port)
        # -l matters beyond logging: it points the postmaster's stdio away from our pipes,
        # which would otherwise keep subprocess.run waiting for as long as the server runs.
        res = self._run([self.bindir / "pg_ctl", "start", "-D", self.pgdata, "-l", self.log_file,
                         "-w", "-t", str(int(self.timeout)), "-s"], as_server=True, check=False)
        if res.returncode != 0:
            raise EmbeddedPostgresError(f"PostgreSQL did not start (pg_ctl exit {res.returncode})"
                                        f":\n{res.stdout}{res.stderr}{self._log_tail()}")
        return port

    def _wait_ready(self, port: int) -> None:
        deadline = time.monotonic() + self.timeout
        while not self._accepting(port):
            if self._postmaster() is None:
                raise EmbeddedPostgresError(f"PostgreSQL exited during start-up{self._log_tail()}")
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError(f"PostgreSQL not accepting connections on {HOST}:"
                                            f"{port} after {self.timeout:.0f}s{self._log_tail()}")
            time.sleep(0.1)

    def _accepting(self, port: int) -> bool:
        pg_isready = self._client("pg_isready")
        if pg_isready is None:  # a bare TCP connect is the next best thing
            with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=2):
                return True
            return False
        return self._run([pg_isready, "-q", "-h", HOST, "-p", port, "-U", SUPERUSER,
                          "-d", "postgres", "-t", "3"], check=False).returncode == 0

    def _ensure_database(self, port: int) -> None:
        exists = f"select 1 from pg_database where datname = '{self.database}'"
        if self._psql(port, exists) == "1":
            return
        try:
            self._psql(port, f'create database "{self.database}"')
        except EmbeddedPostgresError:
            if self._psql(port, exists) != "1":  # else another process created it meanwhile
                raise

    # -- plumbing

    def _psql(self, port: int, sql: str) -> str:
        psql = self._client("psql")
        if psql is None:
            raise EmbeddedPostgresError("psql not found next to the server binaries")
        return self._run([psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", HOST,
                          "-p", port, "-U", SUPERUSER, "-d", "postgres", "-c", sql]).stdout.strip()

    def _client(self, name: str) -> Path | None:
        if os.access(self.bindir / name, os.X_OK):
            return self.bindir / name
        found = shutil.which(name)
        return Path(found) if found else None

    def _postmaster(self) -> tuple[int, int] | None:
        """(pid, port) of a live postmaster of this pgdata, from postmaster.pid; else None."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
        except (OSError, ValueError, IndexError):
            return None
        return (pid, port) if _postgres_alive(pid) else None

    def _run(self, cmd: Sequence[object], *, as_server: bool = False, check: bool = True,
             timeout: float | None = None) -> subprocess.CompletedProcess[str]:
        """Run a tool; as_server=True runs it as the unprivileged account when we are root."""
        argv = [str(c) for c in cmd]
        user: dict[str, object] = {}
        if as_server and self._account is not None:
            user = {"user": self._account.uid, "group": self._account.gid, "extra_groups": []}
        try:
            res = subprocess.run(argv, capture_output=True, text=True, env=_clean_env(),
                                 cwd=self.data_dir, stdin=subprocess.DEVNULL,
                                 timeout=(timeout or self.timeout) + 30, **user)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EmbeddedPostgresError(f"{argv[0]} failed: {exc}{self._log_tail()}") from exc
        if check and res.returncode != 0:
            raise EmbeddedPostgresError(f"{' '.join(argv)} exited {res.returncode}:\n"
                                        f"{res.stdout}{res.stderr}{self._log_tail()}")
        return res

    def _log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
            if tail:
                return f"\n--- last lines of {self.log_file} ---\n" + "\n".join(tail)
        return ""

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        # Serialises start/stop across processes (parallel test workers, CLI next to the app).
        fd = os.open(self.data_dir / ".lock", os.O_RDONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: start (prints the DSN), stop, dsn, status (exit 1 when stopped), bindir."""
    parser = argparse.ArgumentParser(prog="python -m db.embedded",
                                     description="Embedded PostgreSQL for dispatch112.")
    parser.add_argument("command", choices=["start", "stop", "dsn", "status", "bindir"])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(),
                        help="default: $DISPATCH112_DATA_DIR or ./.dispatch112")
    parser.add_argument("--port", type=int)
    parser.add_argument("--database", default="dispatch112")
    parser.add_argument("--fast", action="store_true", help="fsync off etc., for tests")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="embedded-postgres: %(message)s")
    try:
        if args.command == "bindir":
            print(find_bindir())
            return 0
        pg = EmbeddedPostgres(args.data_dir, port=args.port, database=args.database,
                              fast=args.fast)
        if args.command == "start":
            print(pg.start())
        elif args.command == "stop":
            pg.stop()
        elif args.command == "dsn":
            print(pg.dsn)
        else:
            print("running" if pg.is_running() else "stopped")
            return 0 if pg.is_running() else 1
    except EmbeddedPostgresError as exc:
        print(f"embedded-postgres: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
