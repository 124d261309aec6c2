-- The points a team may be sent from, in a table of their own with a spatial index, so
-- that the search for the nearest free teams reads about a hundred rows rather than
-- every free team (3,500-5,000 rows at 5,000 teams, while they store 500 fixes a
-- second). An index on `teams` itself would make every fix's update of its row a
-- non-HOT one with the table's other indexes to write (tried in the fifth round: it
-- degraded within a minute); here a fix updates `teams` as before, still HOT, and one
-- narrow row of this table.
--
-- Each team has two rows: its base (`fix` false) and its latest GPS fix, if any, each
-- marked `free` while the team is available. Which
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
    free boolean NOT NULL,
    PRIMARY KEY (team_id, fix)
);
-- Only free teams' points are indexed: in a surge, when most teams are out, the scan
-- reads the free ones nearest first rather than walking past every busy one (at 5,000
-- teams with 90 % out an index of every point took 7.5 ms, twice the query before it).
CREATE INDEX team_points_free_pt ON team_points USING gist (pt) WHERE free;

-- A row trigger, in the writer's statement: about 45 us a fix that moves (a statement
-- of 12 fixes 0.89 -> 1.41 ms at p50, docs/performance.md), and as much for a team
-- that becomes free or stops being free. An UPDATE of the points inside the service's
-- statements would cost half that, but would leave every other writer of `teams` to
-- remember it. No two writers race on a team's points: each holds its team's row.
CREATE FUNCTION team_points_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO team_points (team_id, fix, pt, free)
            VALUES (NEW.id, false, point(NEW.base_lon, NEW.base_lat), NEW.status = 'available');
        IF NEW.fix_lat IS NOT NULL AND NEW.fix_lon IS NOT NULL THEN
            INSERT INTO team_points (team_id, fix, pt, free)
                VALUES (NEW.id, true, point(NEW.fix_lon, NEW.fix_lat), NEW.status = 'available');
        END IF;
        RETURN NULL;
    END IF;
    IF (NEW.status = 'available') IS DISTINCT FROM (OLD.status = 'available') THEN
        UPDATE team_points SET free = NEW.status = 'available' WHERE team_id = NEW.id;
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
            INSERT INTO team_points (team_id, fix, pt, free)
                VALUES (NEW.id, true, point(NEW.fix_lon, NEW.fix_lat), NEW.status = 'available');
        END IF;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER team_points_inserted AFTER INSERT ON teams
    FOR EACH ROW EXECUTE FUNCTION team_points_kept();
-- A phone standing still sends the same point again, and most status changes keep a
-- team busy: the WHEN spares them the function call, and the points their write.
CREATE TRIGGER team_points_moved
    AFTER UPDATE OF base_lat, base_lon, fix_lat, fix_lon, status ON teams
    FOR EACH ROW
    WHEN ((NEW.base_lat, NEW.base_lon, NEW.fix_lat, NEW.fix_lon, NEW.status = 'available')
          IS DISTINCT FROM
          (OLD.base_lat, OLD.base_lon, OLD.fix_lat, OLD.fix_lon, OLD.status = 'available'))
    EXECUTE FUNCTION team_points_kept();

INSERT INTO team_points (team_id, fix, pt, free)
    SELECT id, false, point(base_lon, base_lat), status = 'available' FROM teams
    UNION ALL
    SELECT id, true, point(fix_lon, fix_lat), status = 'available' FROM teams
    WHERE fix_lat IS NOT NULL AND fix_lon IS NOT NULL;
-- Statistics now, not at autovacuum's next pass: without them PostgreSQL plans the
-- search as a walk over every team (8.4 ms at 1,000 teams instead of 2.2).
ANALYZE team_points;
