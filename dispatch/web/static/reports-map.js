// The reports page's map of late arrivals: kelurahan shaded by the share of responses
// within the target (matched by name with the report grouped by kelurahan; grey
// without data), kecamatan outlines, and each incident as a point: on time, late, or
// never reached. Uses Leaflet from /static/vendor/leaflet; tiles only when the
// service names a tile server.
"use strict";

const LateMap = (() => {
  const PAREPARE = [-4.015, 119.645];
  // Share within target: lower bound of each band, its class and colour (reports.css
  // gives the legend's swatches the same colours).
  const BANDS = [
    { min: 0.9, cls: "band-good", colour: "#2e7d32", label: "≥ 90 %" },
    { min: 0.75, cls: "band-fair", colour: "#9ccc65", label: "75–90 %" },
    { min: 0.5, cls: "band-poor", colour: "#ffb300", label: "50–75 %" },
    { min: 0, cls: "band-bad", colour: "#c62828", label: "< 50 %" },
  ];
  const NO_DATA = { cls: "band-none", colour: "#bdbdbd" };
  const POINTS = {
    on_time: { colour: "#1b5e20", fill: "#43a047" },
    late: { colour: "#7f0000", fill: "#e53935" },
    not_reached: { colour: "#212121", fill: "#ffffff" },
  };
  let map = null;
  let bounds = null;

  function band(share) {
    if (share === null || share === undefined) return NO_DATA;
    return BANDS.find((b) => share >= b.min);
  }

  function pointKind(item) {
    if (item.late === null) return "not_reached";
    return item.late ? "late" : "on_time";
  }

  function makeMap() {
    map = L.map("late-map", { zoomControl: true, attributionControl: false, zoomSnap: 0.25 })
      .setView(PAREPARE, 12);
    const tileUrl = document.querySelector('meta[name="tile-url"]').content;
    if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(map);
    // Printing resizes the map: draw it again for the page's width.
    window.matchMedia("print").addEventListener("change", refit);
    window.addEventListener("beforeprint", refit);
  }

  function refit() {
    map.invalidateSize(false);
    if (bounds && bounds.isValid()) map.fitBounds(bounds, { padding: [8, 8], animate: false });
  }

  function kelurahanTooltip(name, group) {
    const response = group ? group.intervals.response_s : null;
    const share = response ? pct(response.share_within_target) : t("rep.no_data");
    return el("span", {}, el("strong", {}, name), el("br"),
      `${t("rep.map.share")}: ${share}`, el("br"),
      `${t("rep.col.incidents")}: ${fmt(group ? group.count : 0, 0)}`);
  }

  function drawAreas(features, report) {
    const byName = new Map(report.groups.map((g) => [g.key, g]));
    const kelurahan = features.filter((f) => f.geometry && f.properties.level === "kelurahan");
    const kecamatan = features.filter((f) => f.geometry && f.properties.level === "kecamatan");
    const areas = L.geoJSON({ type: "FeatureCollection", features: kelurahan }, {
      style: (f) => {
        const group = byName.get(f.properties.name);
        const share = group ? group.intervals.response_s.share_within_target : null;
        return { color: "#616161", weight: 0.8, fillColor: band(share).colour, fillOpacity: 0.55,
                 className: `kelurahan ${band(share).cls}` };
      },
      onEachFeature: (f, layer) => layer.bindTooltip(
        kelurahanTooltip(f.properties.name, byName.get(f.properties.name)), { sticky: true }),
    }).addTo(map);
    L.geoJSON({ type: "FeatureCollection", features: kecamatan }, {
      style: () => ({ color: "#212121", weight: 2.2, fill: false, className: "kecamatan",
                      interactive: false }),
    }).addTo(map);
    return areas.getBounds();
  }

  function pointTooltip(item) {
    const response = item.response_s === null ? t("rep.map.not_reached")
      : `${minutes(item.response_s)} ${t("rep.min")}`;
    return el("span", {}, `#${item.id} · P${item.priority} · ${response}`);
  }

  function drawPoints(items) {
    const layer = L.featureGroup();
    for (const item of items) {
      const kind = pointKind(item);
      L.circleMarker([item.lat, item.lon], {
        radius: 5, weight: 1.5, color: POINTS[kind].colour, fillColor: POINTS[kind].fill,
        fillOpacity: 0.95, className: `incident-point ${kind}`,
      }).bindTooltip(pointTooltip(item)).addTo(layer);
    }
    return layer.addTo(map);
  }

  function swatch(cls, text) {
    return el("li", {}, el("span", { class: `swatch ${cls}` }), text);
  }

  function drawLegend(points) {
    const counts = { on_time: 0, late: 0, not_reached: 0 };
    for (const item of points.items) counts[pointKind(item)] += 1;
    $("map-legend").replaceChildren(
      el("li", { class: "legend-title" }, t("rep.map.share_title")),
      ...BANDS.map((b) => swatch(b.cls, b.label)), swatch(NO_DATA.cls, t("rep.no_data")),
      el("li", { class: "legend-title" }, t("rep.map.points_title")),
      ...Object.keys(counts).map((kind) => swatch(`dot ${kind}`,
        `${t(`rep.map.${kind}`)} (${fmt(counts[kind], 0)})`)));
    if (points.truncated) {
      $("map-note").textContent = t("rep.map.truncated", { n: fmt(points.limit, 0) });
    }
  }

  // Draw the map for `period`, `report` being the response times by kelurahan.
  async function draw(period, report) {
    const query = periodQuery(period);
    const [districts, points] = await Promise.all([
      api("GET", "/api/v1/districts"), api("GET", `/api/v1/reports/incidents?${query}`)]);
    makeMap();
    const areaBounds = drawAreas(districts.features, report);
    const pointLayer = drawPoints(points.items);
    bounds = areaBounds.isValid() ? areaBounds : pointLayer.getBounds();
    refit();
    drawLegend(points);
  }

  return { draw };
})();
