"""Map data for the dashboard: district boundaries, teams that could go to an incident."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db import districts as districts_db
from db import incidents as incidents_db
from db import places as places_db
from dispatch.allocation import get_ranked_candidates
from dispatch.auth import STAFF, require
from dispatch.errors import NotFound, ValidationFailed
from dispatch.http import JSON, path_id

MAX_CANDIDATES = 10


async def districts(request: Request) -> Response:
    """Imported boundaries as a GeoJSON FeatureCollection (centroids for the others):
    kecamatan first, then kelurahan, each with its `level` and `population` (or null)."""
    await require(request, *STAFF)
    async with request.app.state.ctx.pool.acquire() as conn:
        rows = await districts_db.get_districts(conn)
    features = [{"type": "Feature", "id": row["id"],
                 "properties": {"name": row["name"], "level": row["level"],
                                "population": row["population"], "centroid": {
                                    "lat": row["centroid_lat"], "lon": row["centroid_lon"]}},
                 "geometry": row["geometry"]} for row in rows]
    return JSON({"type": "FeatureCollection", "features": features})


async def candidates(request: Request) -> Response:
    """The nearest free on-duty teams for a manual (re)assignment, with their ETAs."""
    await require(request, *STAFF)
    incident_id = path_id(request)
    ctx = request.app.state.ctx
    async with ctx.pool.acquire() as conn:
        incident = await incidents_db.get_incident(conn, incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        ranked = await get_ranked_candidates(conn, ctx, incident["lat"], incident["lon"],
                                             "motorbike", exclude=[])
    return JSON({"items": [{"team_id": c.team_id, "code": c.code, "eta_s": c.route.eta_s,
                            "distance_m": c.route.distance_m, "source": c.source}
                           for c in ranked[:MAX_CANDIDATES]]})


async def places(request: Request) -> Response:
    """Gazetteer search: ?q= at least 2 characters, up to 20 places."""
    await require(request, *STAFF)
    query = request.query_params.get("q", "").strip()
    if not 2 <= len(query) <= 100:
        raise ValidationFailed.field("q", "must be 2 to 100 characters")
    async with request.app.state.ctx.pool.acquire() as conn:
        rows = await places_db.search_places(conn, query)
    return JSON({"items": [dict(row) for row in rows]})


routes = [
    Route("/api/v1/places", places, methods=["GET"]),
    Route("/api/v1/districts", districts, methods=["GET"]),
    Route("/api/v1/incidents/{id}/candidates", candidates, methods=["GET"]),
]
