"""structlog set-up: JSON lines, with request, incident and team ids bound."""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlsplit

import structlog

# Libraries that log whole URLs (httpx logs every request's, query included) speak
# only from this level up.
QUIET_LOGGERS = ("httpx", "httpcore")


def redact_url(url: str) -> str:
    """scheme://host[:port]/path of `url`: no user, password, query or fragment, which
    may carry a gateway's token. Something that is not a URL becomes '<url>'."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<url>"
    if not parts.scheme or not host:
        return "<url>"
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def redact_text(text: str, url: str) -> str:
    """`text` (an error message) with `url` and its userinfo and query taken out."""
    parts = urlsplit(url)
    for secret in (url, parts.query, parts.fragment, parts.username, parts.password):
        if secret:
            text = text.replace(secret, "<redacted>")
    return text


def quiet_url_loggers(level: int = logging.INFO) -> None:
    """Keep the QUIET_LOGGERS below WARNING (and below `level`) silent."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def configure_logging(level: str = "info") -> None:
    """Log JSON to stderr; context bound with structlog.contextvars joins every line."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(message)s")
    quiet_url_loggers(numeric)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
