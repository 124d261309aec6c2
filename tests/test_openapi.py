"""GET /openapi.json describes every route the app serves, and is valid OpenAPI 3.1."""

import openapi_spec_validator
from starlette.routing import Route

from dispatch.app import create_app
from dispatch.config import Settings
from tests.support import Api


def app_operations(settings: Settings) -> set[tuple[str, str]]:
    """(method, path) of every HTTP route of the API (HEAD comes with GET). The
    websocket is not HTTP, and web pages (HTML) are not part of the JSON API."""
    found = set()
    for route in create_app(settings).routes:
        if not isinstance(route, Route) or not (route.path.startswith("/api/")
                                                or route.path == "/openapi.json"):
            continue
        found |= {(method.lower(), route.path) for method in route.methods if method != "HEAD"}
    assert ("post", "/api/v1/incidents") in found
    return found


async def test_document_covers_every_route(api: Api, settings: Settings) -> None:
    response = await api.get("/openapi.json", role=None)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    document = response.json()
    assert document["openapi"].startswith("3.1")
    documented = {(method, path) for path, item in document["paths"].items()
                  for method in item}
    assert documented == app_operations(settings)


async def test_document_names_auth_bodies_and_errors(api: Api) -> None:
    document = (await api.get("/openapi.json", role=None)).json()
    schemas = document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {"Problem", "IncidentIn", "PositionIn", "StatusIn"} <= set(schemas)
    create = document["paths"]["/api/v1/incidents"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/IncidentIn"}
    assert {"201", "200", "401", "403", "409", "413", "415", "422"} <= set(create["responses"])
    problem = create["responses"]["422"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert create["security"] == [{"bearerAuth": []}]
    assert document["paths"]["/api/v1/health"]["get"]["security"] == []
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"]}
    token = document["paths"]["/api/v1/auth/token"]["post"]
    assert "Retry-After" in token["responses"]["429"]["headers"]


async def test_document_is_valid_openapi(api: Api) -> None:
    document = (await api.get("/openapi.json", role=None)).json()
    openapi_spec_validator.validate(document)
