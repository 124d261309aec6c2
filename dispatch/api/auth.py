"""POST /api/v1/auth/token, /auth/device, /auth/logout."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dispatch.auth import ROLES, do_device_login, do_login, do_logout, get_bearer, require
from dispatch.http import JSON, read_model
from dispatch.schemas import DeviceRequest, TokenRequest


async def token(request: Request) -> Response:
    body = await read_model(request, TokenRequest)
    async with request.app.state.ctx.pool.acquire() as conn:
        issued = await do_login(conn, request.app.state.settings, body.username, body.password)
    return JSON({"access_token": issued.token, "token_type": "bearer", "role": issued.role,
                 "expires_at": issued.expires_at})


async def device(request: Request) -> Response:
    body = await read_model(request, DeviceRequest)
    async with request.app.state.ctx.pool.acquire() as conn:
        issued = await do_device_login(conn, request.app.state.settings, body.team_code,
                                       body.pin)
    return JSON({"access_token": issued.token, "token_type": "bearer", "role": "responder",
                 "team_id": issued.team_id, "expires_at": issued.expires_at})


async def logout(request: Request) -> Response:
    await require(request, *ROLES)
    async with request.app.state.ctx.pool.acquire() as conn:
        await do_logout(conn, get_bearer(request))
    return Response(status_code=204)


routes = [
    Route("/api/v1/auth/token", token, methods=["POST"]),
    Route("/api/v1/auth/device", device, methods=["POST"]),
    Route("/api/v1/auth/logout", logout, methods=["POST"]),
]
