"""The route a team drives to its current incident (GET /api/v1/team/route), drawn on
the phone's "Peta" when the service has a road graph.

From the team's position as the dashboard knows it (its fresh GPS fix, else its base:
dispatch/teams/views.py) to the incident, along one fastest path on the loaded graph
(routing.roadmap.fastest_path, the same snapping and counting as the router's ETA).
"""

from __future__ import annotations

import asyncpg

from dispatch.context import Context
from dispatch.errors import NotFound
from dispatch.geo.roads import get_road_index
from dispatch.responders.service import get_team_assignment
from dispatch.teams.service import get_team_or_404
from routing.geo import Position
from routing.roadmap import DECIMALS, fastest_path


async def get_team_route(conn: asyncpg.Connection, ctx: Context, team_id: int) -> dict:
    """`{incident_id, from, to, route}`: `from` is the team's position (with its
    `source`, gps or base), `to` the incident's; `route` a GeoJSON Feature (LineString
    from `from` to `to`, properties eta_s, distance_m, source "osm"), or null when no
    road joins them (a position far off the roads, an island). 404 `no-road-graph`
    without a graph, 404 when the team has no active assignment."""
    index = get_road_index(ctx)
    assignment = await get_team_assignment(conn, team_id)
    if assignment is None:
        raise NotFound("the team has no active assignment")
    team = await get_team_or_404(conn, team_id, ctx.settings.gps_fresh_s)
    here = team["position"]
    there = assignment["incident"]["location"]
    # On the event loop, as the router's own search: scipy's Dijkstra holds the GIL, so
    # a worker thread would not free the loop (routing.roads.router); a city's graph is
    # searched in milliseconds, and ROUTE_LIMIT_S bounds a larger one.
    router = ctx.router  # snapped and counted as this router ranks teams
    path = fastest_path(index, Position(here["lat"], here["lon"]),
                        Position(there["lat"], there["lon"]), snap_max_m=router.snap_max_m,
                        snap_kmh=router.snap_ms * 3.6)
    route = None
    if path is not None:
        route = {"type": "Feature",
                 "properties": {"eta_s": path.eta_s, "distance_m": path.distance_m,
                                "source": "osm"},
                 "geometry": {"type": "LineString", "coordinates": [
                     [round(lon, DECIMALS), round(lat, DECIMALS)] for lat, lon in path.points]}}
    return {"incident_id": assignment["incident"]["id"],
            "from": {"lat": here["lat"], "lon": here["lon"], "source": here["source"]},
            "to": {"lat": there["lat"], "lon": there["lon"]}, "route": route}
