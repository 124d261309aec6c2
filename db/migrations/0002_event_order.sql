-- Event seqs are taken at insert, not at commit. Serialising event writes makes
-- seq order the commit order: a reader that has seen seq N can never later find
-- a smaller seq committing. The lock is taken per statement, before any row (and
-- so before any seq) is made, and held until the writing transaction ends; the
-- service appends its events as the last statement before COMMIT, so the lock is
-- held only for that insert and the commit.
CREATE FUNCTION events_serialise_writers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(1120002);
    RETURN NULL;
END;
$$;
CREATE TRIGGER events_serialise BEFORE INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_serialise_writers();

-- The log may be pruned; a client resuming from below this seq must resync.
CREATE TABLE events_horizon (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    pruned_through bigint NOT NULL DEFAULT 0
);
INSERT INTO events_horizon DEFAULT VALUES;

-- When a team's phone was last heard from (socket open, frame or heartbeat), and
-- since when it is considered out of signal.
ALTER TABLE teams ADD COLUMN device_seen_at timestamptz;
ALTER TABLE teams ADD COLUMN signal_lost_at timestamptz;
