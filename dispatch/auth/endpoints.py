"""POST /api/v1/auth/token, /auth/device, /auth/logout."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from dispatch.auth.schemas import DeviceRequest, TokenRequest
from dispatch.auth.service import (
    Principal,
    client_address,
    do_device_login,
    do_login,
    do_logout,
    get_bearer,
)
from dispatch.http import JSON, Operation, read_model
from dispatch.openapi import INTEGER, STRING, TIME, shape
from dispatch.vocabulary import PUBLIC, RESPONDER, ROLES, USER_ROLES

# The answers of the two logins.
USER_TOKEN = shape(access_token=STRING, token_type={"enum": ["bearer"]},
                   role={"enum": list(USER_ROLES)}, expires_at=TIME)
DEVICE_TOKEN = shape(access_token=STRING, token_type={"enum": ["bearer"]},
                     role={"enum": [RESPONDER]}, team_id=INTEGER, expires_at=TIME)


async def token(request: Request, principal: None) -> Response:
    body = await read_model(request, TokenRequest)
    issued = await do_login(request.app.state.ctx, request.app.state.settings,
                            body.username, body.password, client_address(request))
    return JSON({"access_token": issued.token, "token_type": "bearer", "role": issued.role,
                 "expires_at": issued.expires_at})


async def device(request: Request, principal: None) -> Response:
    body = await read_model(request, DeviceRequest)
    issued = await do_device_login(request.app.state.ctx, request.app.state.settings,
                                   body.team_code, body.pin, client_address(request))
    return JSON({"access_token": issued.token, "token_type": "bearer", "role": "responder",
                 "team_id": issued.team_id, "expires_at": issued.expires_at})


async def logout(request: Request, principal: Principal) -> Response:
    async with request.app.state.ctx.acquire() as conn:
        await do_logout(conn, get_bearer(request))
    return Response(status_code=204)


operations = [
    Operation("post", "/api/v1/auth/token", token, PUBLIC, "Log a user in", TokenRequest,
              {200: "`access_token`, `token_type`, `role`, `expires_at`",
               401: "wrong credentials",
               429: "too many failed logins from this address; see Retry-After"},
              returns=USER_TOKEN),
    Operation("post", "/api/v1/auth/device", device, PUBLIC,
              "Log a team's phone in with team code and PIN", DeviceRequest,
              {200: "`access_token`, `token_type`, `role` (responder), `team_id`, `expires_at`",
               401: "wrong team code or PIN",
               429: "too many failed logins from this address; see Retry-After"},
              returns=DEVICE_TOKEN),
    Operation("post", "/api/v1/auth/logout", logout, ROLES, "Revoke the bearer token",
              answers={204: "token revoked"}),
]
