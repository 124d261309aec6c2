-- Reserving a team for an incident in one round trip. The allocation tried each
-- candidate in a savepoint of four statements (SAVEPOINT, the team's guarded UPDATE,
-- the assignment's INSERT, RELEASE); this function does the same in one call: the
-- block's EXCEPTION clause is the savepoint, so a unique violation (the one-assignment
-- indexes, the database's last word) undoes the team's move too. The team's status
-- move (target, sources) still comes from the transition table in dispatch/states.py.
-- Returns the new assignment, or no row when the team was not in a source status or
-- is already on an assignment.
CREATE FUNCTION reserve_team(p_team_id bigint, p_target text, p_sources text[],
                             p_incident_id bigint, p_eta_s integer, p_distance_m integer,
                             p_position_source text, p_eta_source text)
RETURNS SETOF assignments
LANGUAGE plpgsql AS $$
DECLARE
    reserved assignments;
BEGIN
    BEGIN
        UPDATE teams SET status = p_target, status_changed_at = now()
        WHERE id = p_team_id AND status = ANY(p_sources);
        IF NOT FOUND THEN
            RETURN;
        END IF;
        INSERT INTO assignments (incident_id, team_id, eta_s, distance_m, position_source,
                                 eta_source)
        VALUES (p_incident_id, p_team_id, p_eta_s, p_distance_m, p_position_source,
                p_eta_source)
        RETURNING * INTO reserved;
    EXCEPTION WHEN unique_violation THEN
        RETURN;
    END;
    RETURN NEXT reserved;
END;
$$;
