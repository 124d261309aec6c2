"""Settings, read from the environment in this one place."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


class SettingsError(ValueError):
    """An environment variable holds a value the service cannot use."""


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"{name} must be >= {minimum}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one service instance.

    `database_url` None means: run the embedded PostgreSQL under `data_dir`.
    """

    database_url: str | None = None
    data_dir: Path = Path(".dispatch112")
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    router: str = "geodesic"
    ack_timeout_s: int = 60
    gps_fresh_s: int = 600
    timezone: str = "Asia/Makassar"
    token_ttl_s: int = 12 * 3600
    device_token_ttl_s: int = 7 * 24 * 3600
    max_body_bytes: int = 64 * 1024
    pool_min: int = 2
    pool_max: int = 10
    sweep_interval_s: float = 2.0
    login_max_failures: int = 5
    login_lockout_s: int = 60
    public_origin: str | None = None
    ws_heartbeat_s: float = 20.0
    ws_queue: int = 1000
    ws_ping_s: float = 20.0
    signal_lost_s: int = 90
    presence_touch_s: float = 30.0
    log_level: str = "info"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from `env` (default: os.environ); raise SettingsError when invalid."""
        env = dict(os.environ if env is None else env)
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(env.get("DISPATCH112_DATA_DIR") or ".dispatch112"),
            secret_key=env.get("DISPATCH112_SECRET_KEY") or secrets.token_urlsafe(32),
            router=env.get("DISPATCH112_ROUTER") or "geodesic",
            ack_timeout_s=_int(env, "DISPATCH112_ACK_TIMEOUT_S", 60, minimum=1),
            gps_fresh_s=_int(env, "DISPATCH112_GPS_FRESH_S", 600, minimum=0),
            timezone=env.get("DISPATCH112_TIMEZONE") or "Asia/Makassar",
            token_ttl_s=_int(env, "DISPATCH112_TOKEN_TTL_S", 12 * 3600, minimum=60),
            pool_max=_int(env, "DISPATCH112_POOL_MAX", 10, minimum=2),
            public_origin=env.get("DISPATCH112_PUBLIC_ORIGIN") or None,
            signal_lost_s=_int(env, "DISPATCH112_SIGNAL_LOST_S", 90, minimum=10),
            log_level=(env.get("DISPATCH112_LOG_LEVEL") or "info").lower(),
        )
