"""The road network of the loaded graph, for the maps (GET /api/v1/roads).

The graph is the one the router ranks teams on (`DISPATCH112_ROUTER=osm:PATH`), loaded
before the service serves; with another router there is none, and asking for roads is
answered 404 `no-road-graph` (the pages then draw no roads). The roads come from
memory, not the database (only the caller's token is looked up there).

Bounded answers: the main roads (motorway ... tertiary) of a whole city are a few
thousand ways, made into features once per graph (routing.roadmap) and served whole or
cut by a box; every road (`detail=all`) is served only for a box no larger than
MAX_ALL_SPAN_DEG on a side (a few streets' worth of the screen at the zoom the
dashboard asks for them), and no answer holds more than MAX_FEATURES ways (`truncated`
says so).
"""

from __future__ import annotations

import asyncio
import json
import math
import weakref

from dispatch.context import Context
from dispatch.errors import NoRoadGraph, ValidationFailed
from routing.roadmap import Box, road_layer
from routing.roads.router import RoadIndex

DETAILS = ("main", "all")
# 0.05 degree is about 5.5 km: a map 1000 px wide shows 0.043 degrees at zoom 15, where
# the dashboard starts asking for every road (roadmap.js, MINOR_ZOOM). Measured on a
# grid city (load average 11 on 2 cores): 3,500 ways in 0.1 degree, 1.4 MB, 0.4-0.6 s.
MAX_ALL_SPAN_DEG = 0.05
MAX_FEATURES = 20_000


def has_road_graph(ctx: Context) -> bool:
    """Whether a road graph is loaded (the pages then draw roads and routes)."""
    return isinstance(getattr(ctx.router, "index", None), RoadIndex)


def get_road_index(ctx: Context) -> RoadIndex:
    """The loaded graph's index (snapping, the graph itself); NoRoadGraph without one."""
    if not has_road_graph(ctx):
        raise NoRoadGraph("no road graph is loaded: the service routes with "
                          f"{ctx.router.name!r}, not an OpenStreetMap extract (osm:PATH)")
    return ctx.router.index


def check_bbox(raw: str | None) -> Box | None:
    """`s,w,n,e` in degrees as a Box (a line or a point is a box too; None when
    absent); 422 naming `bbox` otherwise."""
    if raw is None:
        return None
    parts = raw.split(",")
    try:
        values = [float(p) for p in parts] if len(parts) == 4 and len(raw) <= 200 else []
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValidationFailed.field("bbox", "must be four numbers: south,west,north,east")
    south, west, north, east = values
    if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 180):
        raise ValidationFailed.field("bbox", "needs -90 <= south <= north <= 90 and "
                                             "-180 <= west <= east <= 180")
    return Box(south, west, north, east)


def check_road_query(params) -> tuple[Box | None, str]:
    """(box, detail) of a roads request; 422 for a bad box, an unknown detail, or every
    road asked for without a box or for a box larger than MAX_ALL_SPAN_DEG."""
    unknown = set(params.keys()) - {"bbox", "detail"}
    if unknown:
        raise ValidationFailed.field(sorted(unknown)[0], "unknown parameter")
    detail = params.get("detail", "main")
    if detail not in DETAILS:
        raise ValidationFailed.field("detail", "must be main or all")
    box = check_bbox(params.get("bbox"))
    if detail == "all" and (box is None or box.span_deg > MAX_ALL_SPAN_DEG):
        raise ValidationFailed.field(
            "bbox", f"detail=all needs a bbox of at most {MAX_ALL_SPAN_DEG} degrees a side; "
                    "zoom in, or ask for detail=main")
    return box, detail


def _collection(index: RoadIndex, box: Box | None, detail: str) -> bytes:
    """The answer's JSON, encoded (blocking: called in a worker thread)."""
    layer = road_layer(index.graph)
    features, truncated = layer.features(box, main_only=detail == "main", limit=MAX_FEATURES)
    collection = {"type": "FeatureCollection", "detail": detail, "truncated": truncated,
                  "bounds": list(index.graph.bbox()), "features": features}
    return json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()


# The whole graph's main roads, encoded once per graph: every dashboard asks for them
# when it opens (hundreds of KB of JSON, tens of milliseconds to encode).
_MAIN: weakref.WeakKeyDictionary[RoadIndex, bytes] = weakref.WeakKeyDictionary()


async def get_roads(ctx: Context, box: Box | None, detail: str) -> bytes:
    """The roads as a GeoJSON FeatureCollection in JSON, with the graph's extent
    (`bounds`, as south, west, north, east), the detail served and whether it was
    `truncated`. Made in a worker thread: the first call also builds the graph's layer,
    which the event loop should not wait for."""
    index = get_road_index(ctx)
    whole_main = box is None and detail == "main"
    body = _MAIN.get(index) if whole_main else None
    if body is None:
        body = await asyncio.to_thread(_collection, index, box, detail)
        if whole_main:
            _MAIN[index] = body
    return body
