// The planner page's two maps (Leaflet from /static/vendor/leaflet; tiles only when
// the service names a tile server):
// - EditMap: the city's health facilities, a click on one adds a team there; the
//   edited scenario's team bases.
// - LateMap: a run's late share by kelurahan (joined by name with the result's
//   by_kelurahan), kecamatan outlines and the teams' bases, one scenario at a time.
"use strict";

const PAREPARE = [-4.015, 119.645];

function baseMap(id) {
  const map = L.map(id, { zoomControl: true, attributionControl: false, zoomSnap: 0.25 })
    .setView(PAREPARE, 12);
  const tileUrl = document.querySelector('meta[name="tile-url"]').content;
  if (tileUrl) L.tileLayer(tileUrl, { maxZoom: 19 }).addTo(map);
  return map;
}

// The city's boundaries (GET /api/v1/districts), fetched once for both maps.
let districtsPromise = null;
function loadDistricts() {
  districtsPromise = districtsPromise || api("GET", "/api/v1/districts")
    .then((districts) => districts.features.filter((f) => f.geometry));
  return districtsPromise;
}

function level(features, name) {
  return { type: "FeatureCollection", features: features.filter((f) => f.properties.level === name) };
}

const EditMap = (() => {
  let map = null;
  let bases = null;

  // Draw the sites; `onSite(site)` when one is clicked.
  function create(sites, onSite) {
    map = baseMap("edit-map");
    bases = L.layerGroup().addTo(map);
    const layer = L.featureGroup();
    for (const site of sites) {
      L.circleMarker([site.lat, site.lon], {
        radius: 9, weight: 2, color: "#0d47a1", fillColor: "#bbdefb", fillOpacity: 0.9,
        className: "site-marker",
      }).bindTooltip(el("span", {}, site.name, el("br"), t("pl.map.site")))
        .on("click", () => onSite(site)).addTo(layer);
    }
    layer.addTo(map);
    if (sites.length) map.fitBounds(layer.getBounds(), { padding: [30, 30], maxZoom: 13 });
    // The kelurahan under the sites, for orientation (a failure leaves them out).
    loadDistricts().then((features) => {
      const outlines = L.geoJSON(level(features, "kelurahan"), {
        style: () => ({ color: "#757575", weight: 0.8, fillColor: "#ffffff", fillOpacity: 0.5,
                        interactive: false, className: "outline" }),
      }).addTo(map);
      outlines.bringToBack();
    }).catch((err) => console.warn(err));
  }

  // The edited scenario's bases (not clickable: a click goes to the site below).
  function showBases(teams) {
    if (!bases) return;
    bases.clearLayers();
    for (const team of teams) {
      const lat = Number(team.base && team.base.lat);
      const lon = Number(team.base && team.base.lon);
      if (!Number.isFinite(lat) || !Number.isFinite(lon)) continue;
      L.circleMarker([lat, lon], {
        radius: 5, weight: 1, color: "#7f0000", fillColor: "#e53935", fillOpacity: 1,
        interactive: false, className: "base-marker",
      }).addTo(bases);
    }
  }

  return { create, showBases };
})();

const LateMap = (() => {
  // Share late: upper bound of each band, its class and colour (planner.css gives the
  // legend's swatches the same colours). Lower is better.
  const BANDS = [
    { max: 0.05, cls: "late-low", colour: "#2e7d32", label: "< 5 %" },
    { max: 0.1, cls: "late-some", colour: "#9ccc65", label: "5–10 %" },
    { max: 0.2, cls: "late-high", colour: "#ffb300", label: "10–20 %" },
    { max: Infinity, cls: "late-bad", colour: "#c62828", label: "≥ 20 %" },
  ];
  const NO_CALLS = { cls: "late-none", colour: "#bdbdbd" };
  let map = null;
  let areas = null;
  let bases = null;
  let features = [];

  function band(share) {
    if (share === null || share === undefined) return NO_CALLS;
    return BANDS.find((b) => share < b.max);
  }

  function tooltip(name, row) {
    if (!row) return el("span", {}, el("strong", {}, name));
    return el("span", {}, el("strong", {}, name), el("br"),
      `${t("pl.map.late")}: ${Fmt.percent(row.late_share)}`, el("br"),
      `${t("pl.map.calls")}: ${Fmt.number(row.calls_per_replication, 1)}`, el("br"),
      `${t("pl.map.floor")}: ${Fmt.percent(row.floor_share)}`);
  }

  function legend() {
    const swatch = (cls, text) => el("li", {}, el("span", { class: `swatch ${cls}` }), text);
    $("map-legend").replaceChildren(el("li", { class: "legend-title" }, t("pl.map.legend")),
      ...BANDS.map((b) => swatch(b.cls, b.label)), swatch(NO_CALLS.cls, t("pl.map.no_calls")),
      swatch("dot result-base", t("pl.map.bases")));
  }

  // Load the kelurahan and kecamatan boundaries once (GET /api/v1/districts).
  async function prepare() {
    if (map) return;
    features = await loadDistricts();
    map = baseMap("late-map");
    L.geoJSON(level(features, "kecamatan"), {
      style: () => ({ color: "#212121", weight: 2.2, fill: false, interactive: false,
                      className: "kecamatan" }),
    }).addTo(map);
    legend();
  }

  // Colour the kelurahan by `result.by_kelurahan` (one scenario's result).
  async function draw(result) {
    await prepare();
    map.invalidateSize(false);
    if (areas) areas.remove();
    const byName = new Map(result.by_kelurahan.map((row) => [row.name, row]));
    areas = L.geoJSON(level(features, "kelurahan"), {
      style: (f) => {
        const row = byName.get(f.properties.name);
        const b = band(row ? row.late_share : null);
        return { color: "#616161", weight: 0.8, fillColor: b.colour, fillOpacity: 0.6,
                 className: `kelurahan ${b.cls}` };
      },
      onEachFeature: (f, layer) => layer.bindTooltip(
        tooltip(f.properties.name, byName.get(f.properties.name)), { sticky: true }),
    }).addTo(map);
    areas.bringToBack();
    if (bases) bases.remove();
    // The scenario's team bases, each with its teams' codes.
    const byBase = new Map();
    for (const team of result.teams) {
      const key = `${team.base.lat},${team.base.lon}`;
      byBase.set(key, [...(byBase.get(key) || []), team.code]);
    }
    bases = L.layerGroup([...byBase].map(([key, codes]) => L.circleMarker(key.split(",").map(Number), {
      radius: 6, weight: 1.5, color: "#212121", fillColor: "#ffffff", fillOpacity: 1,
      className: "result-base",
    }).bindTooltip(codes.join(", ")))).addTo(map);
    if (areas.getBounds().isValid()) map.fitBounds(areas.getBounds(), { padding: [8, 8], animate: false });
  }

  return { draw, band };
})();
