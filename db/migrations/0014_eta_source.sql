-- Which router computed an assignment's ETA (DISPATCH112_ROUTER): `osm` (the road graph
-- of an OpenStreetMap extract), `osrm` (an OSRM server) or `geodesic` (straight-line
-- distance stretched by a circuity factor; also what a road router falls back to where
-- it cannot answer). Every assignment before this column was geodesic.
ALTER TABLE assignments
    ADD COLUMN eta_source text NOT NULL DEFAULT 'geodesic'
        CHECK (eta_source IN ('osm', 'osrm', 'geodesic'));

-- The incident log names the ETA source of each incident's last assignment.
CREATE INDEX assignments_incident ON assignments (incident_id, id);
