"""Settings, read from the environment in this one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dispatch.vocabulary import SMS_GATEWAY_KINDS


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


def _float(env: dict[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc
    if not value >= minimum:  # also refuses NaN
        raise SettingsError(f"{name} must be >= {minimum}, got {raw}")
    return value


def _flag(env: dict[str, str], name: str) -> bool:
    """`on`/`true`/`1` or `off`/`false`/`0` (unset: off)."""
    raw = (env.get(name) or "off").strip().lower()
    if raw not in ("on", "true", "1", "off", "false", "0"):
        raise SettingsError(f"{name} must be on or off, got {raw!r}")
    return raw in ("on", "true", "1")


def _urls(env: dict[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of http(s) URLs (empty: none)."""
    urls = tuple(url.strip() for url in (env.get(name) or "").split(",") if url.strip())
    for url in urls:
        if not url.lower().startswith(("http://", "https://")):
            raise SettingsError(f"{name} must list http:// or https:// URLs, got {url!r}")
    return urls


def _shifts(env: dict[str, str], name: str,
            default: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    """`pagi=7,sore=15,malam=23`: each shift's name and local starting hour."""
    raw = env.get(name)
    if not raw:
        return default
    shifts = []
    for part in raw.split(","):
        label, _, hour = part.partition("=")
        if not label.strip() or not hour.strip().isdigit() or not 0 <= int(hour) <= 23:
            raise SettingsError(f"{name} must read like pagi=7,sore=15,malam=23, got {raw!r}")
        shifts.append((label.strip(), int(hour)))
    if len({hour for _, hour in shifts}) != len(shifts):
        raise SettingsError(f"{name}: two shifts start at the same hour")
    return tuple(sorted(shifts, key=lambda shift: shift[1]))


def _router(env: dict[str, str], name: str) -> str:
    """`geodesic`, `osm:PATH` or `osrm:URL` (the file and server are checked at start)."""
    from routing import UnknownRouter, check_router_spec
    try:
        return check_router_spec((env.get(name) or "geodesic").strip())
    except UnknownRouter as exc:
        raise SettingsError(f"{name}: {exc}") from exc


PAREPARE_SHIFTS = (("pagi", 7), ("sore", 15), ("malam", 23))


def _sms_gateway(env: dict[str, str], name: str) -> tuple[str, str] | None:
    """`kannel:URL`, `jasmin:URL` or `playsms:URL` (unset: no SMS): (kind, URL)."""
    raw = (env.get(name) or "").strip()
    if not raw:
        return None
    kind, _, url = raw.partition(":")
    if kind.lower() not in SMS_GATEWAY_KINDS or not url.lower().startswith(
            ("http://", "https://")):
        raise SettingsError(f"{name} must read kannel:URL, jasmin:URL or playsms:URL "
                            "with an http(s) URL")
    return kind.lower(), url


def _share(env: dict[str, str], name: str, default: float) -> float:
    value = _float(env, name, default, minimum=0.0)
    if value > 1:
        raise SettingsError(f"{name} must be between 0 and 1, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything configurable about one service instance.

    `database_url` None means: run the embedded PostgreSQL under `data_dir`.
    """

    database_url: str | None = field(default=None, repr=False)
    data_dir: Path = Path(".dispatch112")
    # The key of the pages' CSRF tokens. None: the one kept by the service, resolved at
    # start (dispatch/secret_key.py): in `secret_key_path` for the embedded server, else
    # in the database, made once by the first instance.
    secret_key: str | None = field(default=None, repr=False)
    # True when the command started (or found) the embedded server under data_dir.
    embedded: bool = False
    router: str = "geodesic"
    ack_timeout_s: int = 60
    gps_fresh_s: int = 600
    timezone: str = "Asia/Makassar"
    token_ttl_s: int = 12 * 3600
    device_token_ttl_s: int = 7 * 24 * 3600
    max_body_bytes: int = 64 * 1024
    pool_min: int = 2
    pool_max: int = 20
    # How long a request waits for a pooled connection before it is answered 503 (a
    # starved pool or a database that does not answer), and the Retry-After it gets.
    db_acquire_timeout_s: float = 5.0
    db_retry_after_s: int = 2
    # A background loop whose round failed waits twice as long after each failure in
    # a row before the next round, at most this long (dispatch/background.py).
    loop_backoff_max_s: float = 10.0
    sweep_interval_s: float = 2.0
    # Login throttling (docs/api.md, Login lockout): failures of one account from one
    # client address, and of one address over all accounts (more for an address that
    # logged in successfully within login_trusted_s), lock for login_lockout_s, doubling
    # with each further failure up to login_lockout_max_s; forgotten after login_memory_s.
    login_max_failures: int = 5
    login_address_max_failures: int = 20
    login_trusted_address_max_failures: int = 100
    login_trusted_s: int = 24 * 3600
    login_lockout_s: int = 60
    login_lockout_max_s: int = 3600
    login_memory_s: int = 24 * 3600
    public_origin: str | None = None
    # Addresses of the reverse proxies whose X-Forwarded-For names the client (uvicorn's
    # forwarded_allow_ips). None: the client is the peer of the connection, always.
    forwarded_allow_ips: str | None = None
    ws_heartbeat_s: float = 20.0
    ws_queue: int = 1000
    ws_ping_s: float = 20.0
    # permessage-deflate on /ws (off: each event's frame is the same bytes for every
    # socket, and an idle socket holds ~34 KiB instead of ~76; docs/performance.md).
    ws_deflate: bool = False
    # A socket must say hello this soon after opening, or it is closed (4401).
    ws_hello_timeout_s: float = 10.0
    # A resuming socket's missed events are read from the log this many at a time.
    ws_replay_page: int = 500
    # Open sockets' tokens are checked this often (revoked, expired, role changed: 4401).
    ws_token_check_s: float = 5.0
    # The hub reads the log this often even without a NOTIFY (a lost one only delays).
    hub_poll_s: float = 1.0
    signal_lost_s: int = 90
    # Map tiles, e.g. a city's own tile server: https://tiles.example/{z}/{x}/{y}.png.
    # None: the map shows boundaries and markers on a plain background.
    tile_url: str | None = None
    presence_touch_s: float = 30.0
    log_level: str = "info"
    # Line failover: where failover notifications are POSTed (SMS gateway, WhatsApp bot,
    # city website), how they are retried, and the pace of the line monitor.
    # Never logged whole: they may carry a token (see dispatch.logs.redact_url).
    failover_webhooks: tuple[str, ...] = field(default=(), repr=False)
    webhook_timeout_s: float = 5.0
    webhook_backoff_s: float = 1.0
    webhook_max_attempts: int = 10
    # How often the probing instance reloads the lines and shows it is alive, and a
    # standby tries to take over; heartbeat lines are checked at least this often.
    line_poll_s: float = 1.0
    # A probing instance silent this long (frozen, or cut off) is ended by a standby.
    line_leader_stale_s: float = 15.0
    # Reports: the promise (a team on scene within 15 minutes of the call, any
    # priority), the NFPA 1225 reference for call processing, and the shifts calls are
    # grouped by (local starting hours).
    # A phone's GPS fixes are announced at most this often (stored all the same); steps
    # and fixes from one phone beyond `device_rate_per_s` (after a burst) are refused 429.
    gps_announce_s: float = 5.0
    # Positions announced a second by one instance at most, whatever the fleet: with
    # more phones connected than this × gps_announce_s, each team's are announced less
    # often (n / rate seconds apart). Every dashboard receives every position; 0: no cap.
    gps_announce_per_s: float = 200.0
    # Fixes are announced in rounds (dispatch/teams/positions.py), at most one per this.
    gps_round_s: float = 0.25
    # A fix waits at most this for others, to be stored with them in one statement
    # (dispatch/teams/fixes.py).
    gps_batch_s: float = 0.025
    device_rate_per_s: float = 2.0
    device_burst: int = 20
    # Events older than this go (never an active incident's): docs/operations.md.
    event_retention_days: int = 30
    prune_every_s: float = 600.0
    response_target_s: int = 15 * 60
    call_processing_target_s: int = 60
    shifts: tuple[tuple[str, int], ...] = PAREPARE_SHIFTS
    # SMS to teams (docs/sms.md): the gateway (kind, URL; None: no SMS), the key the
    # inbound webhook accepts, the share of the ack timeout after which an assignment
    # a phone with a live socket has not acknowledged goes by SMS too, and the outbox
    # worker's pace, retries (backoff doubling up to sms_backoff_max_s) and lease.
    sms_gateway: tuple[str, str] | None = field(default=None, repr=False)
    sms_inbound_key: str | None = field(default=None, repr=False)
    sms_after_ack_share: float = 0.5
    sms_poll_s: float = 1.0
    sms_timeout_s: float = 10.0
    sms_backoff_s: float = 2.0
    sms_backoff_max_s: float = 300.0
    sms_max_attempts: int = 30
    # The call log (docs/api.md, "Calls, callers and the block list"): active incidents
    # offered as possible duplicates are within this distance and were received within
    # this time (or come from the same number); a caller's history reaches this far back.
    duplicate_radius_m: float = 300.0
    duplicate_window_s: int = 30 * 60
    caller_history_days: int = 90
    # A number blocked without an expiry is blocked this long; a number whose call
    # became an incident this recently (or with an active incident) is never blocked.
    block_default_s: int = 24 * 3600
    never_block_s: int = 3600
    # A number whose calls were closed as pranks this many times within a day is blocked
    # automatically (never-block rule permitting); 0: never automatically.
    auto_block_pranks: int = 0
    # Advanced Mobile Location (off until a city receives it): an AML message is tied to
    # the open call from the same number received within this window of it.
    aml_enabled: bool = False
    aml_window_s: int = 300
    # The shared key the SMS gateway or HTTPS receiver may send instead of a gateway
    # token (header X-AML-Key or `key=`); None: tokens only.
    aml_key: str | None = field(default=None, repr=False)
    # Caller numbers of calls (and incidents) older than this are removed; the
    # reports keep their counts (docs/operations.md, "Retention").
    call_retention_days: int = 365
    # The planner page (dispatch/planner/service.py): runs waiting behind the one being
    # simulated before more are refused (503), finished runs kept in memory, and the
    # most calls one run may simulate (about 50,000 a second of the worker's CPU).
    planner_queue: int = 2
    planner_keep_runs: int = 20
    planner_max_calls: int = 1_000_000

    @property
    def secret_key_path(self) -> Path:
        """Where the embedded set-up keeps its generated secret key (mode 0600)."""
        return self.data_dir / "secret_key"

    @property
    def tile_origin(self) -> str | None:
        """scheme://host of the tile server, which the pages' policy must allow."""
        if not self.tile_url:
            return None
        scheme, _, rest = self.tile_url.partition("://")
        host = rest.split("/", 1)[0]
        return f"{scheme}://{host}".replace("{s}.", "*.")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from `env` (default: os.environ); raise SettingsError when invalid."""
        env = dict(os.environ if env is None else env)
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(env.get("DISPATCH112_DATA_DIR") or ".dispatch112"),
            secret_key=env.get("DISPATCH112_SECRET_KEY") or None,
            router=_router(env, "DISPATCH112_ROUTER"),
            ack_timeout_s=_int(env, "DISPATCH112_ACK_TIMEOUT_S", 60, minimum=1),
            gps_fresh_s=_int(env, "DISPATCH112_GPS_FRESH_S", 600, minimum=0),
            timezone=env.get("DISPATCH112_TIMEZONE") or "Asia/Makassar",
            token_ttl_s=_int(env, "DISPATCH112_TOKEN_TTL_S", 12 * 3600, minimum=60),
            pool_max=_int(env, "DISPATCH112_POOL_MAX", 20, minimum=2),
            db_acquire_timeout_s=_float(env, "DISPATCH112_DB_ACQUIRE_TIMEOUT_S", 5.0,
                                        minimum=0.1),
            public_origin=env.get("DISPATCH112_PUBLIC_ORIGIN") or None,
            forwarded_allow_ips=env.get("DISPATCH112_FORWARDED_ALLOW_IPS") or None,
            tile_url=env.get("DISPATCH112_TILE_URL") or None,
            signal_lost_s=_int(env, "DISPATCH112_SIGNAL_LOST_S", 90, minimum=10),
            log_level=(env.get("DISPATCH112_LOG_LEVEL") or "info").lower(),
            failover_webhooks=_urls(env, "DISPATCH112_FAILOVER_WEBHOOKS"),
            webhook_max_attempts=_int(env, "DISPATCH112_WEBHOOK_MAX_ATTEMPTS", 10, minimum=1),
            line_poll_s=_float(env, "DISPATCH112_LINE_POLL_S", 1.0, minimum=0.05),
            line_leader_stale_s=_float(env, "DISPATCH112_LINE_LEADER_STALE_S", 15.0,
                                       minimum=1.0),
            gps_announce_s=_float(env, "DISPATCH112_GPS_ANNOUNCE_S", 5.0, minimum=0.0),
            gps_announce_per_s=_float(env, "DISPATCH112_GPS_ANNOUNCE_PER_S", 200.0,
                                      minimum=0.0),
            gps_round_s=_float(env, "DISPATCH112_GPS_ROUND_S", 0.25, minimum=0.0),
            gps_batch_s=_float(env, "DISPATCH112_GPS_BATCH_S", 0.025, minimum=0.0),
            event_retention_days=_int(env, "DISPATCH112_EVENT_RETENTION_DAYS", 30, minimum=1),
            response_target_s=60 * _int(env, "DISPATCH112_RESPONSE_TARGET_MIN", 15, minimum=1),
            shifts=_shifts(env, "DISPATCH112_SHIFTS", PAREPARE_SHIFTS),
            sms_gateway=_sms_gateway(env, "DISPATCH112_SMS_GATEWAY"),
            sms_inbound_key=env.get("DISPATCH112_SMS_INBOUND_KEY") or None,
            sms_after_ack_share=_share(env, "DISPATCH112_SMS_AFTER_ACK_SHARE", 0.5),
            sms_max_attempts=_int(env, "DISPATCH112_SMS_MAX_ATTEMPTS", 30, minimum=1),
            duplicate_radius_m=_float(env, "DISPATCH112_DUPLICATE_RADIUS_M", 300.0,
                                      minimum=1.0),
            duplicate_window_s=60 * _int(env, "DISPATCH112_DUPLICATE_WINDOW_MIN", 30,
                                         minimum=1),
            caller_history_days=_int(env, "DISPATCH112_CALLER_HISTORY_DAYS", 90, minimum=1),
            block_default_s=3600 * _int(env, "DISPATCH112_BLOCK_HOURS", 24, minimum=1),
            auto_block_pranks=_int(env, "DISPATCH112_AUTO_BLOCK_PRANKS", 0, minimum=0),
            aml_enabled=_flag(env, "DISPATCH112_AML"),
            ws_deflate=_flag(env, "DISPATCH112_WS_DEFLATE"),
            aml_window_s=_int(env, "DISPATCH112_AML_WINDOW_S", 300, minimum=10),
            aml_key=env.get("DISPATCH112_AML_KEY") or None,
            call_retention_days=_int(env, "DISPATCH112_CALL_RETENTION_DAYS", 365,
                                     minimum=1),
            planner_queue=_int(env, "DISPATCH112_PLANNER_QUEUE", 2, minimum=0),
            planner_keep_runs=_int(env, "DISPATCH112_PLANNER_KEEP_RUNS", 20, minimum=1),
            planner_max_calls=_int(env, "DISPATCH112_PLANNER_MAX_CALLS", 1_000_000,
                                   minimum=1000),
        )
