"""/api/v1/calls: calls on the 112 lines (admin, operator, the telephony gateway)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from dispatch.auth.service import Principal
from dispatch.calls import service as calls
from dispatch.calls.schemas import CallEndIn, CallIn
from dispatch.calls.views import CALL
from dispatch.http import JSON, Operation, path_id, read_model
from dispatch.vocabulary import TELEPHONY


async def create_call(request: Request, principal: Principal) -> Response:
    body = await read_model(request, CallIn)
    async with request.app.state.ctx.transaction() as conn:
        call = await calls.do_create_call(conn, body, actor=principal.actor)
    return JSON(call, status_code=201)


async def end_call(request: Request, principal: Principal) -> Response:
    call_id = path_id(request)
    body = await read_model(request, CallEndIn)
    async with request.app.state.ctx.transaction() as conn:
        call = await calls.do_end_call(conn, call_id, body, actor=principal.actor)
    return JSON(call)


operations = [
    Operation("post", "/api/v1/calls", create_call, TELEPHONY, "Record a call on a 112 line",
              CallIn, {201: "the call, `status` open"}, returns=CALL),
    Operation("post", "/api/v1/calls/{id}/end", end_call, TELEPHONY,
              "End a call with its disposition", CallEndIn,
              {200: "the call", 409: "the call has already ended"}, returns=CALL),
]
