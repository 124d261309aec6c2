// The road network and routes drawn from the service's own road graph (GET /api/v1/roads,
// GET /api/v1/team/route), for maps without a tile server. Shared by the dashboard and
// the team view; needs Leaflet and live.js (api). Nothing here is interactive: a click
// on a road still reaches the map (the dashboard marks the incident's place with it).
"use strict";

const ROADS = {
  // Every road from this zoom on (a few streets' worth of screen); main roads always.
  MINOR_ZOOM: 15,
  // The largest box asked for every road (dispatch/geo/roads.py MAX_ALL_SPAN_DEG).
  MAX_SPAN_DEG: 0.05,
  // [weight, colour] per class: the bigger the road, the thicker and warmer.
  STYLE: {
    motorway: [6, "#c0392b"], trunk: [5.5, "#d35400"], primary: [5, "#e67e22"],
    secondary: [4, "#f0b400"], tertiary: [3.5, "#c8b560"],
  },
  MINOR: [2, "#a0a4a8"],
  RETRY_MS: 15000,
};

function roadStyle(feature) {
  const p = feature.properties;
  const [weight, color] = ROADS.STYLE[p.highway] || ROADS.MINOR;
  return { weight, color, opacity: 0.95, lineCap: "round", interactive: false,
           className: `road ${p.main ? "road-main" : "road-minor"} road-${p.highway}` };
}

// The box to ask every road for: the view and a margin, at most MAX_SPAN_DEG a side
// around its centre (the service refuses larger ones).
function roadBox(map) {
  const bounds = map.getBounds().pad(0.1);
  const centre = map.getCenter();
  const half = ROADS.MAX_SPAN_DEG / 2 - 1e-6;
  const south = Math.max(bounds.getSouth(), centre.lat - half, -90);
  const north = Math.min(bounds.getNorth(), centre.lat + half, 90);
  const west = Math.max(bounds.getWest(), centre.lng - half, -180);
  const east = Math.min(bounds.getEast(), centre.lng + half, 180);
  return [south, west, north, east].map((x) => x.toFixed(6)).join(",");
}

// Draws the roads on `map` below everything else: the main roads once, every other road
// of the view whenever the map is zoomed in far enough. `start()` resolves to false
// when the service has no road graph (404), and draws nothing then; after any other
// failure it tries again a little later.
class RoadMap {
  constructor(map) {
    this.map = map;
    this.pane = map.createPane("roads");
    this.pane.style.zIndex = 350;       // above tiles (200), below shapes (400)
    this.pane.style.pointerEvents = "none";
    const options = { pane: "roads", style: roadStyle, interactive: false };
    this.main = L.geoJSON(null, options);
    // Main roads come with every road: only the minor ones are drawn from those answers.
    this.minor = L.geoJSON(null, { ...options, filter: (f) => !f.properties.main });
    this.asked = 0;                     // answers to older requests are dropped
  }

  async start() {
    let data;
    try {
      data = await api("GET", "/api/v1/roads");
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return false;
      // No signal, or the service busy or its database away (503): try again later.
      setTimeout(() => this.start().catch(console.error), ROADS.RETRY_MS);
      return false;
    }
    this.main.addData(data).addTo(this.map);
    this.minor.addTo(this.map);
    this.map.on("moveend", () => this.update().catch(console.error));
    await this.update();
    return true;
  }

  async update() {
    const ask = ++this.asked;
    if (this.map.getZoom() < ROADS.MINOR_ZOOM) { this.minor.clearLayers(); return; }
    const data = await api("GET", `/api/v1/roads?detail=all&bbox=${roadBox(this.map)}`);
    if (ask !== this.asked) return;
    this.minor.clearLayers();
    this.minor.addData(data);
  }
}

// A team's route (a GeoJSON LineString Feature) drawn over the roads.
function routeLayer(feature) {
  return L.geoJSON(feature, { interactive: false, style: () => ({
    color: "#1565c0", weight: 7, opacity: 0.85, lineJoin: "round", className: "route-line" }) });
}
