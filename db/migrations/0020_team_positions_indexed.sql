-- The allocation's candidates come from an index on the map. The candidate query
-- scanned every team, probing each free one's shifts, to keep the hundred nearest:
-- 4-7 ms with 5,000 teams, inside every dispatch. These GiST indexes on the two
-- positions a team is routed from (its fix, its base) hand out teams nearest first
-- (`<->`, in degrees), so a query stops after the hundred nearest that may be sent.
CREATE INDEX teams_base_point ON teams USING gist (point(base_lon, base_lat));
CREATE INDEX teams_fix_point ON teams USING gist (point(fix_lon, fix_lat))
    WHERE fix_at IS NOT NULL;
