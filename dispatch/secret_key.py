"""The key of the web pages' CSRF tokens, the same across restarts and instances.

DISPATCH112_SECRET_KEY, when set, is the key. Without it the service keeps one it
made itself: in `<DISPATCH112_DATA_DIR>/secret_key` (mode 0600) with the embedded
server, else in the database (table service_secrets), where every instance on that
database finds the same one. Start-up says which; a configured key that differs from
the one kept in the database is reported loudly, by fingerprint, never by value.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

import asyncpg
import structlog

from db import secrets as secrets_db
from dispatch.config import Settings

log = structlog.get_logger(__name__)
SECRET_NAME = "csrf_secret_key"


def get_fingerprint(key: str) -> str:
    """A short digest that tells two keys apart without revealing either."""
    return hashlib.sha256(b"dispatch112-key-fingerprint:" + key.encode()).hexdigest()[:12]


def make_key() -> str:
    return secrets.token_urlsafe(32)


def read_or_create_key_file(path: Path) -> str:
    """The key in `path`; a new key is written there first (mode 0600) when there is
    none. The file appears whole or not at all (written aside, then linked into place),
    so processes racing here all read the one key that was linked first."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as out:
                out.write(make_key() + "\n")
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: remove it to have a new key made")
    return key


async def _check_configured(conn: asyncpg.Connection, key: str) -> None:
    """Warn when the database keeps another key than the configured one."""
    stored = await secrets_db.get_secret(conn, SECRET_NAME)
    if stored is not None and stored != key:
        log.warning("secret_key.differs_from_database",
                    configured_fingerprint=get_fingerprint(key),
                    database_fingerprint=get_fingerprint(stored),
                    detail="DISPATCH112_SECRET_KEY differs from the key kept in the database:"
                           " pages served by instances without the setting are refused")
    else:
        log.info("secret_key.configured", fingerprint=get_fingerprint(key))


async def resolve_secret_key(conn: asyncpg.Connection, settings: Settings) -> str:
    """The key this instance signs CSRF tokens with (see the module's docstring)."""
    if settings.secret_key:
        await _check_configured(conn, settings.secret_key)
        return settings.secret_key
    if settings.embedded:
        key = read_or_create_key_file(settings.secret_key_path)
        log.info("secret_key.from_file", path=str(settings.secret_key_path),
                 fingerprint=get_fingerprint(key))
        return key
    key = await secrets_db.get_or_insert_secret(conn, SECRET_NAME, make_key())
    log.info("secret_key.from_database", fingerprint=get_fingerprint(key))
    return key
