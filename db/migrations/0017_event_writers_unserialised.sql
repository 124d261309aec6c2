-- Event writers no longer wait for each other. Migration 0002 serialised them (an
-- advisory lock held to COMMIT) so that seq order was commit order; that made every
-- commit wait for the one before it, so commits could not be grouped and the lock
-- capped the service's writes near one commit per fsync. Readers now stop at the safe
-- horizon instead (realtime/horizon.py): a seq is pushed only once every transaction
-- that could still commit a smaller one has ended, known from the `xid` each row
-- carries and from snapshots (pg_snapshot_xmin / pg_snapshot_xmax). The writers' lock
-- key 1120002 stays reserved (db/locks.py).
DROP TRIGGER events_serialise ON events;
DROP FUNCTION events_serialise_writers();
