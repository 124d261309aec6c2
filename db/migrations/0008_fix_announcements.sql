-- GPS fixes are stored as they come but announced (a `team.updated` event, a NOTIFY, a
-- push to every dashboard) at most every few seconds per team: this is the time of the
-- fix last announced. A fix held back is announced by the sweep once it has waited.
ALTER TABLE teams ADD COLUMN fix_announced_at timestamptz;
UPDATE teams SET fix_announced_at = fix_at;
