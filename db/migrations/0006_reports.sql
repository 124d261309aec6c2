-- Response-time reports.
-- Each incident keeps, beside its step times, the kelurahan it lies in and the team
-- last sent to it (the one whose steps its times describe: a reassigned incident is
-- measured with the team that arrived), written in the allocating transaction, so that
-- a report over years reads one table through one index.
ALTER TABLE incidents
    ADD COLUMN kelurahan_id bigint REFERENCES districts (id) ON DELETE SET NULL,
    ADD COLUMN last_team_id bigint REFERENCES teams (id),
    ADD COLUMN last_assigned_at timestamptz,
    ADD COLUMN assignment_count integer NOT NULL DEFAULT 0;

UPDATE incidents i SET last_team_id = a.team_id, last_assigned_at = a.created_at,
                       assignment_count = a.n
FROM (SELECT DISTINCT ON (incident_id) incident_id, team_id, created_at,
             count(*) OVER (PARTITION BY incident_id) AS n
      FROM assignments ORDER BY incident_id, created_at DESC) a
WHERE a.incident_id = i.id;

CREATE INDEX incidents_received ON incidents (received_at);
CREATE INDEX calls_received ON calls (received_at);
CREATE INDEX line_events_at ON line_events (at);
