"""The HTTP API: the one table of its operations, each with its path and roles.

The app's routes, their role guard and /openapi.json are built from OPERATIONS;
tests/matrix/test_roles.py checks it against the contract's roles. A newcomer finds
the code behind a URL in the package of its first segment after /api/v1 (see the
domain map in README.md).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from db.pool import ping
from dispatch.aml import endpoints as aml
from dispatch.auth import endpoints as auth
from dispatch.blocklist import endpoints as blocklist
from dispatch.calls import endpoints as calls
from dispatch.geo import endpoints as geo
from dispatch.http import JSON, Operation
from dispatch.incidents import endpoints as incidents
from dispatch.lines import endpoints as lines
from dispatch.openapi import shape
from dispatch.planner import endpoints as planner
from dispatch.reports import activity_endpoints as activity_reports
from dispatch.reports import charts as report_charts
from dispatch.reports import endpoints as reports
from dispatch.reports import points as report_points
from dispatch.responders import endpoints as responders
from dispatch.sms import endpoints as sms
from dispatch.teams import endpoints as teams
from dispatch.vocabulary import PUBLIC


async def health(request: Request, principal: None) -> Response:
    async with request.app.state.ctx.acquire() as conn:
        await ping(conn)
    return JSON({"status": "ok"})


async def openapi_json(request: Request, principal: None) -> Response:
    """The OpenAPI 3.1 document, built from OPERATIONS (dispatch/openapi.py)."""
    return JSON(request.app.state.openapi)


OPERATIONS: list[Operation] = [
    Operation("get", "/api/v1/health", health, PUBLIC, "The service and its database answer",
              answers={200: "`{\"status\": \"ok\"}`"}, returns=shape(status={"enum": ["ok"]})),
    Operation("get", "/openapi.json", openapi_json, PUBLIC, "This document",
              answers={200: "OpenAPI 3.1 document"}, database=False),
    *auth.operations, *teams.operations, *calls.operations, *incidents.operations,
    *blocklist.operations, *aml.operations,
    *geo.operations, *responders.operations, *lines.operations, *reports.operations,
    *activity_reports.operations, *sms.operations,
    *report_charts.operations, *report_points.operations, *planner.operations,
]
