"""Reading requests and writing responses: body limits, JSON, problem+json; an
operation of the API and the guarded route it makes."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import pydantic
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatch.auth.service import Principal, require
from dispatch.errors import (
    DispatchError,
    FieldError,
    MalformedJSON,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

Model = TypeVar("Model", bound=pydantic.BaseModel)
MAX_ID = 2**63 - 1


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class JSON(JSONResponse):
    """JSON response that writes datetimes as RFC 3339 (UTC in, UTC out)."""

    def render(self, content: object) -> bytes:
        return json.dumps(content, default=_default, ensure_ascii=False,
                          separators=(",", ":")).encode()


def problem(error: DispatchError) -> Response:
    return JSON(error.to_problem(), status_code=error.status, headers=error.headers,
                media_type="application/problem+json")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing with 413 as soon as it passes `limit` bytes (before it is
    read whole: a declared length over the limit is refused without reading)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def check_json_content_type(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json" and not (media.startswith("application/")
                                            and media.endswith("+json")):
        raise UnsupportedMediaType("send the body as application/json")


def _reject_constant(name: str) -> None:
    # NaN and Infinity are not JSON; Python's parser accepts them unless told not to.
    raise ValueError(f"{name} is not a JSON value")


def _field_errors(exc: pydantic.ValidationError) -> list[FieldError]:
    errors = []
    for item in exc.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "body"
        errors.append(FieldError(field, item["msg"]))
    return errors


def parse_model(model: type[Model], body: bytes) -> Model:
    """Validate a JSON body against `model`: 400 when it is not JSON, 422 naming each field."""
    try:
        data = json.loads(body, parse_constant=_reject_constant) if body else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJSON(f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise MalformedJSON("body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ValidationFailed.field("body", "must be a JSON object")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        errors = _field_errors(exc)
        raise ValidationFailed("; ".join(f"{e.field}: {e.message}" for e in errors),
                               errors=errors) from None


async def read_model(request: Request, model: type[Model]) -> Model:
    """Read, size-check and validate the JSON body of `request`."""
    check_json_content_type(request)
    body = await read_body(request, request.app.state.settings.max_body_bytes)
    return parse_model(model, body)


def path_id(request: Request, name: str = "id") -> int:
    """A numeric id from the path; 404 when it cannot be one of ours. Only ASCII digits
    count ("²" and "١" are digits to str.isdigit), and at most as many as MAX_ID has."""
    raw = str(request.path_params.get(name, ""))
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(MAX_ID))
            and 0 < int(raw) <= MAX_ID):
        raise NotFound(f"no such {name}: {raw}")
    return int(raw)


Handler = Callable[[Request, "Principal | None"], Awaitable[Response]]


@dataclass(frozen=True)
class Operation:
    """One operation of the HTTP API: where it is, who may call it, what it reads and
    what it answers. The one table of these (dispatch/api.py) is read by the guard,
    by /openapi.json and by the role tests.

    The route built from an operation authenticates the caller and checks its role
    before the handler runs (401 / 403), so no handler can forget to; the handler
    gets the principal (None for a public operation).
    """

    method: str
    path: str
    handler: Handler
    roles: tuple[str, ...]
    summary: str
    body: type[pydantic.BaseModel] | None = None
    answers: Mapping[int, str] = field(default_factory=dict)
    parameters: tuple[dict, ...] = ()
    # What a successful answer is (the OpenAPI document says so).
    media_type: str = "application/json"
    # The JSON Schema of a successful JSON answer (from the domain's views.py); None:
    # only "an object". tests/test_schemathesis.py holds every answer to it.
    returns: dict | None = None
    # Whether it reads or writes the database (and so answers 503 while it is away).
    database: bool = True
    # Another way in than a token of `roles` (a gateway's shared key): True when the
    # request carries it (the handler then gets no principal); it raises 401 for a
    # wrong one.
    keyed: Callable[[Request], bool] | None = None

    def route(self) -> Route:
        async def endpoint(request: Request) -> Response:
            if self.keyed is not None and self.keyed(request):
                return await self.handler(request, None)
            principal = await require(request, *self.roles) if self.roles else None
            return await self.handler(request, principal)
        return Route(self.path, endpoint, methods=[self.method.upper()],
                     name=self.handler.__name__)
