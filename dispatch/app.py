"""The Starlette application: routes from the operations table, middleware, the one
error renderer, lifespan (the hub, the sweeper, presence, the line monitor, the token
watch of the sockets)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import structlog
import xstatic.pkg.leaflet as leaflet
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from db import districts as districts_db
from db.pool import ROLLED_BACK_ERRORS, UNAVAILABLE_ERRORS, create_pool
from dispatch.api import OPERATIONS
from dispatch.config import Settings
from dispatch.context import Context
from dispatch.errors import (
    ClientGone,
    DispatchError,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
)
from dispatch.events import Written
from dispatch.events.notifier import Notifier
from dispatch.http import JSON, problem
from dispatch.lines.monitor import LineMonitor
from dispatch.logs import quiet_url_loggers
from dispatch.openapi import get_document
from dispatch.planner.service import PlannerRuns
from dispatch.runtime import collect_on_a_clock, tune_gc_after_start_up, watch_loop
from dispatch.secret_key import resolve_secret_key
from dispatch.sms.outbox import run_sms_sender
from dispatch.sweeper import run_sweeper
from dispatch.teams.positions import FixRounds
from dispatch.teams.presence import run_presence
from dispatch.web.endpoints import routes as page_routes
from dispatch.ws.endpoints import routes as ws_routes
from dispatch.ws.tokens import TokenWatch
from realtime.frames import CLOSE_TRY_AGAIN_LATER
from realtime.hub import Hub
from routing import close_router, prepare_router

log = structlog.get_logger(__name__)


class RequestContext:
    """Binds a request id (echoed as X-Request-ID) to every log line of the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = uuid.uuid4().hex[:16]
        started = time.perf_counter()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id, path=scope["path"])

        async def send_with_id(message: dict) -> None:
            if message["type"] == "http.response.start":
                # Server-Timing: how long the service took, so that a client (the load
                # generator, a browser's developer tools) can tell it from the network.
                took_ms = (time.perf_counter() - started) * 1000
                message.setdefault("headers", []).extend([
                    (b"x-request-id", request_id.encode()),
                    (b"server-timing", f"app;dur={took_ms:.1f}".encode())])
            await send(message)

        await self.app(scope, receive, send_with_id)


async def on_dispatch_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DispatchError)
    if isinstance(exc, ServiceUnavailable):
        log.warning("request.unavailable", detail=exc.detail)
    elif exc.status >= 500:
        log.error("request.failed", detail=exc.detail)
    return problem(exc)


async def on_rolled_back(connection: HTTPConnection, exc: Exception) -> Response | None:
    """PostgreSQL undid the request's transaction to break a collision with another
    (db.pool.ROLLED_BACK_ERRORS): nothing was written, so 503 with Retry-After tells
    the client to send it again (a team's phone does, with the same client_id). Logged
    as an error: a deadlock is a lock-order bug to fix."""
    log.error("request.rolled_back", error=repr(exc))
    return problem(ServiceUnavailable(
        "the request collided with another and was undone; send it again",
        retry_after_s=1))


async def on_database_unavailable(connection: HTTPConnection, exc: Exception
                                  ) -> Response | None:
    """The database is away (db.pool.UNAVAILABLE_ERRORS): 503 with Retry-After, logged
    as a warning with the request id; the client retries. A socket is closed with
    "try again later" instead (its endpoint normally does that itself)."""
    log.warning("request.database_unavailable", error=repr(exc))
    retry_after_s = connection.app.state.settings.db_retry_after_s
    if isinstance(connection, WebSocket):
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await connection.close(CLOSE_TRY_AGAIN_LATER, "service unavailable")
        return None
    return problem(ServiceUnavailable(retry_after_s=retry_after_s))


async def on_client_gone(request: Request, exc: Exception) -> Response:
    """The client left while its body was being read (Starlette's ClientDisconnect):
    an everyday event on a mobile network, not a crash of the service."""
    log.info("request.client_gone")
    return problem(ClientGone("the connection closed before the request was read whole"))


def get_allowed_methods(request: Request) -> str:
    """The Allow header of a 405: every method a route serves at this path (Starlette's
    own names only the first route's, and GET and POST of a path are separate routes)."""
    methods: set[str] = set()
    for route in request.app.routes:
        if route.matches(request.scope)[0] is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    errors = {404: NotFound("no such resource"),
              405: MethodNotAllowed(f"{request.method} is not allowed here",
                                    headers={"Allow": get_allowed_methods(request)})}
    error = errors.get(exc.status_code) or DispatchError(str(exc.detail))
    if exc.status_code not in errors:
        error.status = exc.status_code
    return problem(error)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("request.crashed")
    return JSON({"type": "/problems/internal", "title": "Internal error", "status": 500,
                 "detail": "the service failed; the request may be retried"},
                status_code=500, media_type="application/problem+json")


STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"


async def service_worker(request: Request) -> Response:
    """The team view's service worker, served from the root so its scope covers /team."""
    return FileResponse(STATIC_DIR / "sw.js", media_type="text/javascript",
                        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    pool = await create_pool(app.state.settings.database_url,
                             min_size=app.state.settings.pool_min,
                             max_size=app.state.settings.pool_max)
    async with pool.acquire() as conn:
        key = await resolve_secret_key(conn, app.state.settings)
    app.state.settings = settings = replace(app.state.settings, secret_key=key)
    hub = Hub(pool, settings.database_url, poll_s=settings.hub_poll_s)
    sms_wake = asyncio.Event()

    def after_commit(written: Written) -> None:
        hub.committed(written)  # pushed at once when nothing can come before it
        sms_wake.set()  # a committed change may have queued an SMS: send it now

    ctx = Context.create(settings, pool, after_commit=after_commit)
    ctx.connected_team_ids, ctx.sms_wake = hub.get_team_ids, sms_wake
    hub.watch(districts_db.NOTIFY_CHANNEL, ctx.districts.changed)
    ctx.districts.watch_with(hub.listening.is_set)
    ctx.notifier = notifier = Notifier(settings.database_url)
    fix_rounds = FixRounds(settings.gps_round_s)
    ctx.on_fix_stored = fix_rounds.poke
    try:  # the road graph, loaded (or built) in a thread before the first request
        await prepare_router(ctx.router)
    except BaseException:
        await pool.close()
        raise
    app.state.ctx, app.state.pool, app.state.hub = ctx, pool, hub
    app.state.line_monitor = monitor = LineMonitor(ctx)
    app.state.token_watch = watch = TokenWatch(pool, settings.ws_token_check_s)
    # The planner page's runs; its worker process starts at the first run.
    app.state.planner = planner = PlannerRuns(settings)
    await hub.start()
    notifier.start()
    stop = asyncio.Event()
    background = [asyncio.create_task(run_sweeper(ctx, stop)),
                  asyncio.create_task(run_presence(ctx, hub.get_team_ids, stop)),
                  asyncio.create_task(fix_rounds.run(ctx, stop)),
                  asyncio.create_task(monitor.run(stop)),
                  asyncio.create_task(watch.run(stop)),
                  asyncio.create_task(run_sms_sender(ctx, sms_wake, stop)),
                  asyncio.create_task(watch_loop(stop))]
    if getattr(app.state, "tune_gc", False):  # `dispatch112 serve`, not in-process tests
        tune_gc_after_start_up()
        background.append(asyncio.create_task(collect_on_a_clock(stop)))
    try:
        yield
    finally:
        stop.set()
        sms_wake.set()
        await asyncio.gather(*background)
        await asyncio.to_thread(planner.close)
        await notifier.stop()
        await hub.stop()
        await close_router(ctx.router)
        await pool.close()


def create_app(settings: Settings) -> Starlette:
    """The service for `settings` (whose database_url must be set)."""
    if not settings.database_url:
        raise ValueError("create_app needs settings.database_url")
    routes = [*(operation.route() for operation in OPERATIONS), *ws_routes, *page_routes,
              Mount("/static/vendor/leaflet", StaticFiles(directory=leaflet.BASE_DIR),
                    name="leaflet"),
              Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
              Route("/sw.js", service_worker, methods=["GET"])]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
        DispatchError: on_dispatch_error, HTTPException: on_http_error,
        ClientDisconnect: on_client_gone,
        **dict.fromkeys(UNAVAILABLE_ERRORS, on_database_unavailable),
        **dict.fromkeys(ROLLED_BACK_ERRORS, on_rolled_back),
        Exception: on_unexpected})
    app.state.settings = settings
    quiet_url_loggers()  # webhook URLs may carry tokens: httpx must not log them
    app.state.openapi = get_document(OPERATIONS)
    app.add_middleware(RequestContext)
    return app
