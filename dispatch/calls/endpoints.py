"""/api/v1/calls: calls on the 112 lines (the telephony gateway opens and ends them;
the call log, a call and a caller's history are for operators and admins only:
caller numbers are personal data)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from dispatch.auth.service import Principal
from dispatch.calls import service as calls
from dispatch.calls.schemas import CallEndIn, CallIn
from dispatch.calls.views import CALL
from dispatch.errors import ValidationFailed
from dispatch.http import JSON, Operation, path_id, read_model
from dispatch.schemas import check_int_param, check_phone_param
from dispatch.vocabulary import CALL_STATES, STAFF, TELEPHONY


async def create_call(request: Request, principal: Principal) -> Response:
    body = await read_model(request, CallIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        call = await calls.do_create_call(conn, body, actor=principal.actor,
                                          settings=ctx.settings,
                                          taken_by=taker(principal))
    return JSON(call, status_code=201)


def taker(principal: Principal) -> str | None:
    """Who has a call the caller opens: an operator (or admin) picked it up; the
    gateway's call is nobody's until taken."""
    return principal.name if principal.role in STAFF else None


async def take_call(request: Request, principal: Principal) -> Response:
    call_id = path_id(request)
    async with request.app.state.ctx.transaction() as conn:
        call = await calls.do_take_call(conn, call_id, user=principal.name,
                                        actor=principal.actor)
    return JSON(call)


async def end_call(request: Request, principal: Principal) -> Response:
    call_id = path_id(request)
    body = await read_model(request, CallEndIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        call = await calls.do_end_call(conn, call_id, body, actor=principal.actor,
                                       settings=ctx.settings, user=taker(principal))
    return JSON(call)


async def list_calls(request: Request, principal: Principal) -> Response:
    """`?number=N`: that caller's history; else the call log (`status`, `hours`)."""
    params, ctx = request.query_params, request.app.state.ctx
    number = check_phone_param(params.get("number"), "number")
    status = params.get("status")
    if status is not None and status not in CALL_STATES:
        raise ValidationFailed.field("status", "must be open or ended")
    hours = check_int_param(params.get("hours"), "hours", 1, 24 * 90, 24)
    async with ctx.acquire() as conn:
        if number is not None:
            return JSON(await calls.get_caller_history(conn, number, ctx.settings))
        return JSON(await calls.get_call_log(conn, status, hours))


async def get_call(request: Request, principal: Principal) -> Response:
    call_id = path_id(request)
    async with request.app.state.ctx.acquire() as conn:
        return JSON(await calls.get_call_detail(conn, call_id))


NUMBER = {"name": "number", "in": "query", "required": False,
          "description": "a caller's number (0812..., +62812..., 62812...): that caller's "
                         "history of the last DISPATCH112_CALLER_HISTORY_DAYS (90) days",
          "schema": {"type": "string"}}
STATUS = {"name": "status", "in": "query", "required": False,
          "description": "without number: only open or only ended calls",
          "schema": {"type": "string", "enum": list(CALL_STATES)}}
HOURS = {"name": "hours", "in": "query", "required": False,
         "description": "without number: calls of the last N hours (default 24; every "
                        "open call in any case)",
         "schema": {"type": "integer", "minimum": 1, "maximum": 2160}}

operations = [
    Operation("post", "/api/v1/calls", create_call, TELEPHONY, "Record a call on a 112 line",
              CallIn, {201: "the call, `status` open; `blocked` when the number is on the "
                            "block list (logged all the same); `taken_by` the operator who "
                            "opened it (null when the gateway did: it rings until taken)"},
              returns=CALL),
    Operation("get", "/api/v1/calls", list_calls, STAFF,
              "The call log, or a caller's history (`number`)",
              answers={200: "`{\"items\": [call], \"since\"}`; with `number` also "
                            "`\"incidents\": [incident]` and `\"block\": {\"blocked\", "
                            "\"until\"?, \"reason\"?}`",
                       422: "bad number, status or hours"},
              parameters=(NUMBER, STATUS, HOURS)),
    Operation("get", "/api/v1/calls/{id}", get_call, STAFF,
              "A call with the handset's own positions (AML)",
              answers={200: "the call with `\"aml\": [{lat, lon, radius_m, confidence, "
                            "method, transport, at, received_at}]`, newest fix first"}),
    Operation("post", "/api/v1/calls/{id}/take", take_call, STAFF,
              "Take a ringing call (one the gateway opened): it is yours, the other "
              "dashboards stop ringing it",
              answers={200: "the call, `taken_by` you",
                       409: "another operator took it first (`taken_by` names who: "
                            "`detail` too), or it has ended"},
              returns=CALL),
    Operation("post", "/api/v1/calls/{id}/end", end_call, TELEPHONY,
              "End a call with its disposition", CallEndIn,
              {200: "the call", 409: "the call has already ended, another operator "
                                     "took it (`taken_by`), or the incident a "
                                     "duplicate names has ended",
               422: "unknown disposition; incident_id missing for `duplicate`, given with "
                    "another disposition than `incident` or `duplicate`, or unknown"},
              returns=CALL),
]
