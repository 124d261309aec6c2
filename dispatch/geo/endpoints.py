"""/api/v1/districts, /api/v1/places and /api/v1/roads: the maps and the gazetteer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from db import districts as districts_db
from db import places as places_db
from dispatch.auth.service import Principal
from dispatch.errors import ValidationFailed
from dispatch.geo import roads as roads_service
from dispatch.http import JSON, Operation
from dispatch.openapi import NUMBER, STRING, listing, nullable, shape
from dispatch.vocabulary import HEALTH_OFFICE, RESPONDER, STAFF


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


async def roads(request: Request, principal: Principal) -> Response:
    """The loaded road graph's ways in a box (routing.roadmap), see dispatch/geo/roads.py."""
    box, detail = roads_service.check_road_query(request.query_params)
    body = await roads_service.get_roads(request.app.state.ctx, box, detail)
    # The graph changes only with a restart: a page may keep the roads a while.
    return Response(body, media_type="application/json",
                    headers={"Cache-Control": "private, max-age=300"})


BBOX = {"name": "bbox", "in": "query", "required": False,
        "description": "south,west,north,east in degrees; needed with detail=all, at most "
                       f"{roads_service.MAX_ALL_SPAN_DEG} degrees a side there.",
        "schema": {"type": "string", "example": "-4.03,119.61,-4.00,119.65"}}
DETAIL = {"name": "detail", "in": "query", "required": False,
          "description": "main (default): motorway to tertiary; all: every road an "
                         "ambulance may drive.",
          "schema": {"type": "string", "enum": list(roads_service.DETAILS)}}


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
    # The map's streets: the dashboard, and the team's phone (its route's surroundings).
    Operation("get", "/api/v1/roads", roads, (*STAFF, RESPONDER),
              "The road network of the loaded graph as a GeoJSON FeatureCollection",
              answers={200: "FeatureCollection of LineStrings (properties highway, main, "
                            "oneway), with `detail`, `truncated` and `bounds` "
                            "[south, west, north, east]",
                       404: "no road graph is loaded (problem type `/problems/no-road-graph`)",
                       422: "bad bbox or detail; detail=all without a bbox or with one too "
                            "large"},
              parameters=(BBOX, DETAIL)),
]
