"""/api/v1/districts and /api/v1/places: the dashboard's map and gazetteer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from db import districts as districts_db
from db import places as places_db
from dispatch.auth.service import Principal
from dispatch.errors import ValidationFailed
from dispatch.http import JSON, Operation
from dispatch.openapi import NUMBER, STRING, listing, nullable, shape
from dispatch.vocabulary import HEALTH_OFFICE, STAFF


async def districts(request: Request, principal: Principal) -> Response:
    """Imported boundaries as a GeoJSON FeatureCollection (centroids for the others):
    kecamatan first, then kelurahan, each with its `level` and `population` (or null)."""
    async with request.app.state.ctx.acquire() as conn:
        rows = await districts_db.get_districts(conn)
    features = [{"type": "Feature", "id": row["id"],
                 "properties": {"name": row["name"], "level": row["level"],
                                "population": row["population"], "centroid": {
                                    "lat": row["centroid_lat"], "lon": row["centroid_lon"]}},
                 "geometry": row["geometry"]} for row in rows]
    return JSON({"type": "FeatureCollection", "features": features})


async def places(request: Request, principal: Principal) -> Response:
    """Gazetteer search: ?q= at least 2 characters, up to 20 places."""
    query = request.query_params.get("q", "").strip()
    if not 2 <= len(query) <= 100:
        raise ValidationFailed.field("q", "must be 2 to 100 characters")
    if "\x00" in query:  # PostgreSQL text cannot hold one: refused, not a 500
        raise ValidationFailed.field("q", "must not contain a NUL character")
    async with request.app.state.ctx.acquire() as conn:
        rows = await places_db.search_places(conn, query)
    return JSON({"items": [dict(row) for row in rows]})


PLACES = listing(shape(name=STRING, kind=STRING, lat=NUMBER, lon=NUMBER))
DISTRICTS = shape(type={"enum": ["FeatureCollection"]}, features={"type": "array", "items": {
    "type": "object", "required": ["type", "id", "properties", "geometry"],
    "properties": {"type": {"enum": ["Feature"]}, "geometry": nullable({"type": "object"}),
                   "properties": shape(name=STRING, level=STRING, population=nullable(NUMBER),
                                       centroid={"type": "object"})}}})
QUERY = {"name": "q", "in": "query", "required": True,
         "description": "what to look for in place names, 2 to 100 characters",
         "schema": {"type": "string", "minLength": 2, "maxLength": 100}}

operations = [
    # Boundaries carry no caller data: the health office's map of late arrivals reads them.
    Operation("get", "/api/v1/districts", districts, (*STAFF, HEALTH_OFFICE),
              "District boundaries as a GeoJSON FeatureCollection",
              answers={200: "FeatureCollection of kecamatan and kelurahan (properties name, "
                            "level, population, centroid; geometry null where only a "
                            "centroid is known)"}, returns=DISTRICTS),
    Operation("get", "/api/v1/places", places, STAFF, "Gazetteer search (?q=, 2-100 characters)",
              answers={200: "`{\"items\": [{name, kind, lat, lon}]}`",
                       422: "q missing or too long"}, parameters=(QUERY,), returns=PLACES),
]
