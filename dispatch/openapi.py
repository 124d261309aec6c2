"""The OpenAPI 3.1 description of the HTTP API, served at GET /openapi.json.

Built from the operations table (dispatch/api.py): request bodies come from each
operation's pydantic model, roles from its guard (`x-roles`), the usual error answers
from what the operation does (authenticates, reads a body, takes an id from the path).
"""

from __future__ import annotations

from importlib import metadata

from pydantic import BaseModel

from dispatch.http import Operation

COMMON_ERRORS = {
    400: "malformed JSON", 401: "missing, unknown, expired or revoked token",
    403: "role may not do this", 404: "no such resource", 409: "conflict",
    413: "body larger than 64 KiB", 415: "body is not application/json",
    422: "invalid input; `errors` names each field", 429: "too many attempts",
    503: "the database is unavailable; send the same request again after Retry-After",
}

PROBLEM = {
    "type": "object", "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}


# --- building the JSON Schemas of answers (each domain's views.py states its shapes) -----

STRING, INTEGER, NUMBER, BOOLEAN = ({"type": t} for t in ("string", "integer", "number",
                                                          "boolean"))
TIME = {"type": "string", "format": "date-time"}
ANY: dict = {}


def nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


def shape(**properties: dict) -> dict:
    """An object with exactly these keys, every one present: the views write each key,
    null when there is no value, so an answer with a key more or less is a bug."""
    return {"type": "object", "required": list(properties), "properties": properties,
            "additionalProperties": False}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def listing(items: dict, **more: dict) -> dict:
    """`{"items": [...]}`, and `more` keys beside it."""
    return shape(items=array(items), **more)


POSITION = shape(lat=NUMBER, lon=NUMBER)


# What a successful answer holds, by media type, when the operation does not say.
SUCCESS_SCHEMAS = {"application/json": {"type": "object"},
                   "text/csv": {"type": "string"}, "image/svg+xml": {"type": "string"}}


def _answer(status: int, description: str, media_type: str = "application/json",
            returns: dict | None = None) -> dict:
    if status == 204:
        return {"description": description}
    if status >= 400:
        answer = {"description": description, "content": {"application/problem+json": {
            "schema": {"$ref": "#/components/schemas/Problem"}}}}
        if status in (429, 503):
            answer["headers"] = {"Retry-After": {
                "description": "seconds to wait", "schema": {"type": "integer"}}}
        return answer
    schema = returns or SUCCESS_SCHEMAS.get(media_type, {"type": "string", "format": "binary"})
    return {"description": description, "content": {media_type: {"schema": schema}}}


def _request_body(model: type[BaseModel], schemas: dict) -> dict:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model.__name__}"}}}}


def _operation(op: Operation, schemas: dict) -> dict:
    method, path, model, roles = op.method, op.path, op.body, op.roles
    errors = [400, 413, 415, 422] if model else []
    # A query or header parameter is checked by the handler: a bad one is a 422.
    errors += [422] if any(p["in"] in ("query", "header") for p in op.parameters) else []
    errors += [401, 403] if roles else []
    errors += [404] if "{id}" in path else []
    errors += [503] if op.database else []
    responses = {status: _answer(status, COMMON_ERRORS[status]) for status in errors}
    responses.update({status: _answer(status, text, op.media_type, op.returns)
                      for status, text in op.answers.items()})
    operation: dict = {
        "operationId": "_".join([method, *path.replace(".", "_").strip("/")
                                 .replace("{", "").replace("}", "").split("/")]),
        "summary": op.summary,
        "tags": [path.split("/")[3] if path.startswith("/api/v1/") else "service"],
        "security": [{"bearerAuth": []}] if roles else [],
        "responses": {str(status): responses[status] for status in sorted(responses)},
    }
    if roles:
        operation["description"] = "Roles: " + ", ".join(roles) + "."
        operation["x-roles"] = list(roles)
    parameters = [{"name": "id", "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 1}}] if "{id}" in path else []
    parameters += list(op.parameters)
    if parameters:
        operation["parameters"] = parameters
    if model is not None:
        operation["requestBody"] = _request_body(model, schemas)
    return operation


def _version() -> str:
    try:
        return metadata.version("dispatch112")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def get_document(operations: list[Operation]) -> dict:
    """The whole OpenAPI document of `operations`."""
    schemas: dict = {"Problem": PROBLEM}
    paths: dict[str, dict] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "dispatch112", "version": _version(),
                 "description": "Dispatch service of a city's 112 health-emergency call "
                                "centre. Times are RFC 3339 in UTC; errors are "
                                "application/problem+json. See docs/api.md."},
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer",
                           "description": "POST /api/v1/auth/token or /api/v1/auth/device"}}},
    }
