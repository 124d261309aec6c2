// The team's "Peta" when the service has a road graph: the route from the team's position
// to its incident (GET /api/v1/team/route) over the roads, inside the page, instead of a
// link out. Needs Leaflet, live.js and roadmap.js; without them "Peta" stays a link.
"use strict";

const routeView = { map: null, roads: null, drawn: null, started: false };

function routeMapOn() {
  return document.querySelector('meta[name="road-map"]').content === "on"
    && typeof L !== "undefined" && typeof RoadMap !== "undefined";
}

function routeSummary(body) {
  if (!body.route) return t("team.no_route");
  const p = body.route.properties;
  const km = (p.distance_m / 1000).toLocaleString(lang() === "en" ? "en" : "id",
                                                   { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  return t("team.route", { km,
                           min: Math.max(1, Math.round(p.eta_s / 60)) });
}

// The team's position and the incident, the line between them along the roads.
function drawRoute(map, body) {
  const group = L.featureGroup();
  if (body.route) routeLayer(body.route).addTo(group);
  const ends = [[body.from, "#1565c0", "team.route_from", "route-from"],
                [body.to, "#c62828", "team.route_to", "route-to"]];
  for (const [at, color, label, name] of ends) {
    L.circleMarker([at.lat, at.lon], { radius: 9, color: "#fff", weight: 3, fillColor: color,
                                       fillOpacity: 1, className: name })
      .bindTooltip(el("span", {}, t(label)), { permanent: true, direction: "top",
                                               offset: [0, -8], className: "route-label" })
      .addTo(group);
  }
  return group.addTo(map);
}

async function openRouteMap() {
  const panel = document.getElementById("route-panel");
  const summary = document.getElementById("route-summary");
  panel.hidden = false;
  summary.textContent = t("team.route_loading");
  if (!routeView.map) {
    routeView.map = L.map("route-map", { zoomControl: true });
    routeView.roads = new RoadMap(routeView.map);
  }
  routeView.map.invalidateSize();   // the panel was hidden: Leaflet measures it again
  let body;
  try {
    body = await api("GET", "/api/v1/team/route");
  } catch (err) {
    summary.textContent = t("team.route_failed");
    return;
  }
  if (routeView.drawn) routeView.drawn.remove();
  routeView.drawn = drawRoute(routeView.map, body);
  routeView.map.fitBounds(routeView.drawn.getBounds().pad(0.25), { maxZoom: 17 });
  summary.textContent = routeSummary(body);
  if (!routeView.started) {         // the roads once the map has a place to show
    routeView.started = true;
    routeView.roads.start().catch(console.error);
  }
  panel.scrollIntoView({ block: "start" });
}
