-- A failover notification is claimed by one deliverer for one attempt: `claimed_by`
-- (the instance, kept afterwards as the last one that tried) and `claimed_until` (the
-- claim's lease, cleared when the attempt is recorded). Another deliverer takes it
-- only once the lease is over, and an attempt is recorded only by the claim it was
-- made under, so a leader that lost its lock mid-batch and the one that took over
-- never POST the same delivery side by side.
ALTER TABLE webhook_deliveries
    ADD COLUMN claimed_by text,
    ADD COLUMN claimed_until timestamptz;
