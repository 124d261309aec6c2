"""GET /ws: check the origin, authenticate the hello, then hand the socket to the
realtime session with handlers for what a client may send."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from urllib.parse import urlsplit

import pydantic
import structlog
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from db.pool import DATABASE_ERRORS
from dispatch.auth.service import Principal, digest, get_principal
from dispatch.errors import DispatchError, Unauthorized
from dispatch.events.catalogue import EVENTS
from dispatch.http import parse_model
from dispatch.incidents.queue import serve_queue_after_commit
from dispatch.responders import service as responders
from dispatch.responders.schemas import LocationIn, StatusIn
from dispatch.teams.presence import do_phone_connected, do_touch_devices
from dispatch.vocabulary import STAFF
from dispatch.web.session import get_session_token
from realtime.frames import (
    CLOSE_FORBIDDEN_ORIGIN,
    CLOSE_TRY_AGAIN_LATER,
    CLOSE_UNAUTHORIZED,
    Viewer,
)
from realtime.session import Session

log = structlog.get_logger(__name__)
UNAVAILABLE = {"ok": False, "error": "service unavailable; send it again", "status": 503}


def check_origin(ws: WebSocket) -> bool:
    """A browser's Origin must be the service's own (or the configured public origin).
    Clients that send no Origin are not browsers, so not a cross-site risk."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True
    allowed = {f"{scheme}://{ws.headers.get('host', '')}" for scheme in ("http", "https")}
    public = ws.app.state.settings.public_origin
    if public:
        allowed.add(public.rstrip("/"))
    parts = urlsplit(origin)
    return f"{parts.scheme}://{parts.netloc}" in allowed


async def read_hello(ws: WebSocket, timeout_s: float) -> dict | None:
    """The first frame when it is a well-formed hello sent in time, else None. The
    token, when present, is text (anything else cannot authenticate anyone); `batch`,
    when present, true or false; `events`, when present, a list of event names of the
    catalogue (those the client wants)."""
    try:
        text = await asyncio.wait_for(ws.receive_text(), timeout_s)
        hello = json.loads(text)
    except (TimeoutError, ValueError, KeyError, RuntimeError):  # RecursionError included
        return None
    if not isinstance(hello, dict) or hello.get("type") != "hello":
        return None
    if not isinstance(hello.get("token"), str | None):
        return None
    last_seq = hello.get("last_seq")
    if last_seq is not None and (not isinstance(last_seq, int) or isinstance(last_seq, bool)
                                 or last_seq < 0):
        return None
    if not isinstance(hello.get("batch", False), bool):
        return None
    if not _known_names(hello.get("events")):
        return None
    return hello


def _known_names(names: object) -> bool:
    """None, or a list of names each of an event of the catalogue (a misspelt name
    would silently stop those events: refused instead)."""
    if names is None:
        return True
    return isinstance(names, list) and all(isinstance(n, str) and n in EVENTS for n in names)


def _refused(client_id: object, exc: DispatchError, revoke: Callable[[], None]) -> dict:
    """The answer to a refused frame; a token found no longer valid (checked in the
    frame's own statement) also closes the socket with 4401."""
    if isinstance(exc, Unauthorized):
        revoke()
    return {"client_id": client_id, "ok": False, "error": exc.detail, "status": exc.status}


def _responder_handlers(ws: WebSocket, principal: Principal, token_hash: bytes,
                        revoke: Callable[[], None]) -> dict:
    ctx = ws.app.state.ctx

    async def status(data: dict) -> dict:
        client_id = data.get("client_id")
        try:
            body = parse_model(StatusIn, json.dumps(data).encode())
            responders.check_rate(ctx, principal.team_id)
            async with ctx.transaction() as conn:
                result = await responders.do_team_step(conn, ctx, principal.team_id, body,
                                                       actor=principal.actor,
                                                       token_hash=token_hash)
        except DispatchError as exc:
            return _refused(client_id, exc, revoke)
        except DATABASE_ERRORS as exc:  # the step is idempotent: the phone sends it again
            log.warning("ws.step_failed", error=str(exc))
            return {"client_id": client_id, **UNAVAILABLE}
        if body.action == "clear" and not result.get("replayed"):
            await serve_queue_after_commit(ctx)
        return {"client_id": client_id, "ok": True, **result}

    async def location(data: dict) -> dict:
        client_id = data.get("client_id")
        try:
            body = parse_model(LocationIn, json.dumps(data).encode())
            responders.check_rate(ctx, principal.team_id)
            await responders.do_team_location(ctx, principal.team_id, body,
                                              token_hash=token_hash)
        except DispatchError as exc:
            return _refused(client_id, exc, revoke)
        except DATABASE_ERRORS as exc:
            log.warning("ws.location_failed", error=str(exc))
            return {"client_id": client_id, **UNAVAILABLE}
        return {"client_id": client_id, "ok": True}

    return {"status": status, "location": location}


def get_handlers(ws: WebSocket, principal: Principal, token_hash: bytes,
                 revoke: Callable[[], None]) -> dict:
    async def ack(data: dict) -> None:
        return None  # delivery is confirmed by resuming with last_seq; nothing to store

    handlers = {"ack": ack}
    if principal.role == "responder":
        handlers.update(_responder_handlers(ws, principal, token_hash, revoke))
    return handlers


async def websocket_endpoint(ws: WebSocket) -> None:
    await ws.accept()
    try:
        await _serve(ws)
    except WebSocketDisconnect:
        pass  # the client left (during the hello or the replay): nobody to tell
    except DATABASE_ERRORS as exc:
        log.warning("ws.database_unavailable", error=str(exc))
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await ws.close(CLOSE_TRY_AGAIN_LATER, "service unavailable; reconnect later")


async def _serve(ws: WebSocket) -> None:
    """Origin, hello, authentication, then the session until the socket closes.
    Raises WebSocketDisconnect when the client leaves, a database error when
    PostgreSQL cannot be reached."""
    if not check_origin(ws):
        return await ws.close(CLOSE_FORBIDDEN_ORIGIN, "origin not allowed")
    hello = await read_hello(ws, ws.app.state.settings.ws_hello_timeout_s)
    if hello is None:
        # No hello, a malformed one or none in time: no authentication either.
        return await ws.close(CLOSE_UNAUTHORIZED, "send a hello frame with a token first")
    try:
        async with ws.app.state.ctx.acquire() as conn:
            # Pages rely on their session cookie (the Origin check above guards it).
            token = hello.get("token") or get_session_token(ws)
            principal = await get_principal(conn, token if isinstance(token, str) else None)
    except Unauthorized:
        return await ws.close(CLOSE_UNAUTHORIZED, "bad or missing token")
    viewer = Viewer(principal.role, principal.team_id, sees_all=principal.role in STAFF)
    token_hash = digest(token)
    session = Session(ws, ws.app.state.hub, viewer,
                      get_handlers(ws, principal, token_hash, lambda: session.revoke()),
                      heartbeat_s=ws.app.state.settings.ws_heartbeat_s,
                      max_queue=ws.app.state.settings.ws_queue,
                      replay_page=ws.app.state.settings.ws_replay_page,
                      batch=hello.get("batch", False),
                      names=None if hello.get("events") is None else frozenset(hello["events"]))
    team = [principal.team_id] if principal.team_id is not None else []
    await do_touch_devices(ws.app.state.ctx, team)
    if principal.team_id is not None and await do_phone_connected(ws.app.state.ctx,
                                                                  principal.team_id):
        await serve_queue_after_commit(ws.app.state.ctx)  # available again: serve the queue
    watch = ws.app.state.token_watch
    watch.add(token_hash, session.revoke)  # closed with 4401 once the token ends
    try:
        await session.run(hello.get("last_seq"))
    except (pydantic.ValidationError, RuntimeError) as exc:
        log.info("ws.closed", reason=str(exc))
    finally:
        watch.remove(token_hash, session.revoke)
        await do_touch_devices(ws.app.state.ctx, team)  # last heard: now


routes = [WebSocketRoute("/ws", websocket_endpoint)]
