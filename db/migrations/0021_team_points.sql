-- The points a team may be sent from, in a table of their own with a spatial index, so
-- that the search for the nearest free teams reads about a hundred rows rather than
-- every free team (3,500-5,000 rows at 5,000 teams, while they store 500 fixes a
-- second). An index on `teams` itself would make every fix's update of its row a
-- non-HOT one with the table's other indexes to write (tried in the fifth round: it
-- degraded within a minute); here a fix updates `teams` as before, still HOT, and one
-- narrow row of this table.
--
-- Each team has two rows: its base (`fix` false) and its latest GPS fix, if any. Which
-- of the two it is sent from depends on the fix's age, which no index can hold: the
-- search takes the row that is valid now (the fix while fresh, the base otherwise) and
-- skips the other. The rows are derived from `teams` by the triggers below, whoever
-- writes it (the service, COPY of a seeded fleet, a test's UPDATE), in the writer's
-- own transaction: the points and the team are never seen apart.
-- Coordinates are point(lon, lat) in degrees; the search corrects for longitude's
-- shrinking with latitude (db/teams.py).
CREATE TABLE team_points (
    team_id bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    fix boolean NOT NULL,
    pt point NOT NULL,
    PRIMARY KEY (team_id, fix)
);
-- Every point, busy teams' too: a flag of the team's availability here, with only the
-- free points indexed, made every status change write two points, and a nearest-first
-- scan cannot skip the dead index entries that leaves until VACUUM: the bare database
-- loop of load/baselines.py fell from 317 to 152 allocations a second. In a surge the
-- scan walks past the busy teams instead (docs/performance.md).
CREATE INDEX team_points_pt ON team_points USING gist (pt);

-- A row trigger, in the writer's statement: about 45 us a fix that moves (a statement
-- of 12 fixes 0.89 -> 1.41 ms at p50, docs/performance.md). An UPDATE of the points
-- inside the service's fix statement would cost half that, but would leave every other writer of `teams` to
-- remember it. No two writers race on a team's points: each holds its team's row.
CREATE FUNCTION team_points_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO team_points (team_id, fix, pt)
            VALUES (NEW.id, false, point(NEW.base_lon, NEW.base_lat));
        IF NEW.fix_lat IS NOT NULL AND NEW.fix_lon IS NOT NULL THEN
            INSERT INTO team_points (team_id, fix, pt)
                VALUES (NEW.id, true, point(NEW.fix_lon, NEW.fix_lat));
        END IF;
        RETURN NULL;
    END IF;
    IF (NEW.base_lat, NEW.base_lon) IS DISTINCT FROM (OLD.base_lat, OLD.base_lon) THEN
        UPDATE team_points SET pt = point(NEW.base_lon, NEW.base_lat)
            WHERE team_id = NEW.id AND NOT fix;
    END IF;
    IF NEW.fix_lat IS NULL OR NEW.fix_lon IS NULL THEN
        DELETE FROM team_points WHERE team_id = NEW.id AND fix;
    ELSIF (NEW.fix_lat, NEW.fix_lon) IS DISTINCT FROM (OLD.fix_lat, OLD.fix_lon) THEN
        UPDATE team_points SET pt = point(NEW.fix_lon, NEW.fix_lat) WHERE team_id = NEW.id AND fix;
        IF NOT FOUND THEN
            INSERT INTO team_points (team_id, fix, pt)
                VALUES (NEW.id, true, point(NEW.fix_lon, NEW.fix_lat));
        END IF;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER team_points_inserted AFTER INSERT ON teams
    FOR EACH ROW EXECUTE FUNCTION team_points_kept();
-- A phone standing still sends the same point again: the WHEN spares it the function
-- call, and the points their write.
CREATE TRIGGER team_points_moved AFTER UPDATE OF base_lat, base_lon, fix_lat, fix_lon ON teams
    FOR EACH ROW
    WHEN ((NEW.base_lat, NEW.base_lon, NEW.fix_lat, NEW.fix_lon)
          IS DISTINCT FROM (OLD.base_lat, OLD.base_lon, OLD.fix_lat, OLD.fix_lon))
    EXECUTE FUNCTION team_points_kept();

INSERT INTO team_points (team_id, fix, pt)
    SELECT id, false, point(base_lon, base_lat) FROM teams
    UNION ALL
    SELECT id, true, point(fix_lon, fix_lat) FROM teams
    WHERE fix_lat IS NOT NULL AND fix_lon IS NOT NULL;
-- Statistics now, not at autovacuum's next pass: without them PostgreSQL plans the
-- search as a walk over every team (8.4 ms at 1,000 teams instead of 2.2).
ANALYZE team_points;
