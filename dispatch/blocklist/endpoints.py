"""/api/v1/blocklist: admins block and unblock numbers and read the audit trail; the
gateway (and the staff) look a number up before the call rings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from dispatch.auth.service import Principal
from dispatch.blocklist import service as blocklist
from dispatch.blocklist.schemas import BlockIn
from dispatch.errors import NotFound, ValidationFailed
from dispatch.http import JSON, Operation, read_model
from dispatch.schemas import check_int_param, check_phone_param
from dispatch.vocabulary import ADMIN, BLOCKLIST_READERS


def path_number(request: Request) -> str:
    """The number in the path, in E.164; 404 when it cannot be a phone number (as an
    unknown id would be)."""
    try:
        return check_phone_param(request.path_params["number"], "number")
    except ValidationFailed:
        raise NotFound(f"not a phone number: {request.path_params['number'][:40]}") from None


async def block(request: Request, principal: Principal) -> Response:
    body = await read_model(request, BlockIn)
    ctx = request.app.state.ctx
    async with ctx.transaction() as conn:
        entry = await blocklist.do_block(conn, body, actor=principal.actor,
                                         settings=ctx.settings)
    return JSON(entry, status_code=201)


async def list_blocks(request: Request, principal: Principal) -> Response:
    flags = {"true": False, "false": True, None: True}
    raw = request.query_params.get("all")
    if raw not in flags:
        raise ValidationFailed.field("all", "must be true or false")
    limit = check_int_param(request.query_params.get("limit"), "limit", 1, 5000, 500)
    async with request.app.state.ctx.acquire() as conn:
        return JSON({"items": await blocklist.get_blocks(conn, flags[raw], limit)})


async def lookup(request: Request, principal: Principal) -> Response:
    number = path_number(request)
    async with request.app.state.ctx.acquire() as conn:
        return JSON(await blocklist.get_lookup(conn, number))


async def lift(request: Request, principal: Principal) -> Response:
    number = path_number(request)
    async with request.app.state.ctx.transaction() as conn:
        await blocklist.do_lift(conn, number, actor=principal.actor)
    return Response(status_code=204)


NUMBER = {"name": "number", "in": "path", "required": True, "schema": {"type": "string"},
          "description": "the caller's number: 0812..., +62812... or 62812..."}
ALL = {"name": "all", "in": "query", "required": False,
       "description": "true: every entry ever made, lifted and expired too (the audit)",
       "schema": {"type": "string", "enum": ["true", "false"]}}
LIMIT = {"name": "limit", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 5000}}

operations = [
    Operation("post", "/api/v1/blocklist", block, (ADMIN,),
              "Block a number (pranks, abuse) until expires_at (default 24 h)", BlockIn,
              {201: "the entry: `id`, `number`, `reason`, `created_at`, `created_by`, "
                    "`expires_at`",
               409: "never blocked: the number has an active incident, or a call from it "
                    "in the last hour became an incident",
               422: "bad number or reason; expires_at not in the future or over a year"}),
    Operation("get", "/api/v1/blocklist", list_blocks, (ADMIN,),
              "Blocks in force (or, with all=true, the whole audit trail), newest first",
              answers={200: "`{\"items\": [entry + lifted_at, lifted_by]}`",
                       422: "bad all or limit"}, parameters=(ALL, LIMIT)),
    Operation("get", "/api/v1/blocklist/{number}", lookup, BLOCKLIST_READERS,
              "Whether a number is blocked now (the gateway asks before a call rings)",
              answers={200: "`{\"blocked\": bool, \"until\"?, \"reason\"?}`",
                       404: "not a phone number"}, parameters=(NUMBER,)),
    Operation("delete", "/api/v1/blocklist/{number}", lift, (ADMIN,),
              "Lift a number's block", answers={204: "lifted",
                                                404: "not blocked, or not a phone number"},
              parameters=(NUMBER,)),
]
