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
CREATE INDEX team_points_pt ON team_points USING gist (pt);

CREATE FUNCTION team_points_set(p_team_id bigint, p_fix boolean, p_lat double precision,
                                p_lon double precision) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF p_lat IS NULL OR p_lon IS NULL THEN
        DELETE FROM team_points WHERE team_id = p_team_id AND fix = p_fix;
        RETURN;
    END IF;
    UPDATE team_points SET pt = point(p_lon, p_lat) WHERE team_id = p_team_id AND fix = p_fix;
    IF NOT FOUND THEN
        INSERT INTO team_points (team_id, fix, pt) VALUES (p_team_id, p_fix, point(p_lon, p_lat));
    END IF;
END;
$$;

CREATE FUNCTION team_points_kept() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR (NEW.base_lat, NEW.base_lon) IS DISTINCT FROM (OLD.base_lat, OLD.base_lon) THEN
        PERFORM team_points_set(NEW.id, false, NEW.base_lat, NEW.base_lon);
    END IF;
    IF TG_OP = 'INSERT' OR (NEW.fix_lat, NEW.fix_lon) IS DISTINCT FROM (OLD.fix_lat, OLD.fix_lon) THEN
        PERFORM team_points_set(NEW.id, true, NEW.fix_lat, NEW.fix_lon);
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
