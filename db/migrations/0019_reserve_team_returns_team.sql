-- The reservation also returns the team as it now is. The allocation announced the
-- team (`team.updated`) by reading it again after reserving it: one more round trip
-- per dispatch, each waiting its turn on a busy service. The function's UPDATE now
-- returns the team's row, so the caller has both in one. Same guard, same savepoint
-- (the block's EXCEPTION clause), same answer when the team was not free: no row.
DROP FUNCTION reserve_team(bigint, text, text[], bigint, integer, integer, text, text);
CREATE FUNCTION reserve_team(p_team_id bigint, p_target text, p_sources text[],
                             p_incident_id bigint, p_eta_s integer, p_distance_m integer,
                             p_position_source text, p_eta_source text)
RETURNS TABLE (assignment assignments, team teams)
LANGUAGE plpgsql AS $$
DECLARE
    reserved assignments;
    moved teams;
BEGIN
    BEGIN
        UPDATE teams SET status = p_target, status_changed_at = now()
        WHERE id = p_team_id AND status = ANY(p_sources)
        RETURNING * INTO moved;
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
    assignment := reserved;
    team := moved;
    RETURN NEXT;
END;
$$;
