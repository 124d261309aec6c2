"""Road routing from an OpenStreetMap extract (`DISPATCH112_ROUTER=osm:PATH`).

Modules: `profile` (which ways an ambulance drives, directions, speeds), `parse`
(pyosmium reading), `graph` (the CSR graph, its cache), `router` (ranking teams).

Public API (what the map and the command line use)
--------------------------------------------------
`load_graph(path) -> RoadGraph`: the graph of the extract at `path` (`.osm`,
`.osm.pbf`), from its cache `path + ".graph.npz"` when current, else built (seconds for a
city) and cached. Raises `ExtractError` for a missing, unreadable or roadless file.
Blocking CPU work: call it in a thread from async code (`asyncio.to_thread`).

`RoadGraph` (frozen; numpy arrays, node and edge numbers are array indices):
- nodes `0..graph.node_count-1`: `graph.lat[i]`, `graph.lon[i]` (WGS 84 degrees),
  `graph.node_id[i]` (the OSM node id);
- directed edges, CSR: the edges leaving node `u` are positions
  `graph.indptr[u]:graph.indptr[u+1]` of `graph.target` (end node), `graph.seconds`
  (emergency-vehicle travel time), `graph.metres`, `graph.road_class` (index into
  `HIGHWAY_CLASSES`); `graph.sources()` gives every edge's start node, so edge `k` runs
  `sources()[k] -> target[k]`. A two-way street is two edges; a one-way street one;
- ways, for drawing (the geometry between junctions, as in the extract):
  `graph.ways(classes=None)` yields `(class_name, direction, [(lat, lon), ...])`, with
  `direction` BOTH (0), FORWARD (1, in the listed order) or BACKWARD (-1); pass
  `classes=MAIN_CLASSES` for the roads drawn at every zoom. The raw arrays are
  `way_start`, `way_nodes` (node indices), `way_class`, `way_direction`;
- `graph.bbox()` -> (south, west, north, east); `graph.components` -> weakly connected
  component label per node; `graph.matrix()` -> scipy CSR matrix of seconds.

`HIGHWAY_CLASSES`: class names by index (motorway ... track; `*_link` folded into
their road); `MAIN_CLASSES`: motorway, trunk, primary, secondary, tertiary.

`OsmRouter(extract)`: the `routing.Router` over the graph (routing.roads.router); a loaded
router's graph is `router.graph` (None until `await router.prepare()` has loaded it).
With the service running, it is `request.app.state.ctx.router` when
`DISPATCH112_ROUTER=osm:...` (check `isinstance(router, OsmRouter)`).
A team's route for a map: `routing.roadmap.fastest_path(router.index, origin,
destination)` (points, ETA and distance, or None).
"""

from routing.roads.graph import RoadGraph, build_graph, cache_path, load_graph
from routing.roads.parse import ExtractError
from routing.roads.profile import (
    BACKWARD,
    BOTH,
    EMERGENCY_FACTOR,
    FORWARD,
    HIGHWAY_CLASSES,
    MAIN_CLASSES,
    speed_kmh,
)

__all__ = ["BACKWARD", "BOTH", "EMERGENCY_FACTOR", "FORWARD", "HIGHWAY_CLASSES",
           "MAIN_CLASSES", "ExtractError", "RoadGraph", "build_graph", "cache_path",
           "load_graph", "speed_kmh"]
