"""How uvicorn serves the app: the event loop, the HTTP and websocket protocols, the
pings and the largest frame. `dispatch112 serve` and the tests' service
(tests/support.py) use the same, so that the suite exercises what is deployed."""

from __future__ import annotations

from dispatch.config import Settings

# The largest websocket frame a phone or a dashboard may send (a step, a fix, a resume).
WS_MAX_SIZE = 64 * 1024


def event_loop() -> str:
    """uvloop when installed (it is a dependency off Windows): every socket write and
    timer of thousands of connections goes through the loop, and uvloop does those in
    C (docs/performance.md)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def protocol_options(settings: Settings) -> dict[str, object]:
    """uvicorn's options for the protocols.

    HTTP is parsed by httptools (C), not h11 (Python). Websockets run on the sans-I/O
    `websockets` protocol, whose frames are written straight to the transport (uvicorn's
    default is built on websockets' legacy implementation, deprecated, with tasks of
    its own per connection). Together about 5 % less CPU for the service under target
    1's load (docs/performance.md, the fourteenth round). Protocol pings every
    `ws_ping_s`; a socket whose pong is that late is closed."""
    return {"http": "httptools", "ws": "websockets-sansio", "loop": event_loop(),
            "ws_ping_interval": settings.ws_ping_s, "ws_ping_timeout": settings.ws_ping_s,
            "ws_max_size": WS_MAX_SIZE, "ws_per_message_deflate": settings.ws_deflate}
