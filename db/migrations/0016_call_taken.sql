-- Which operator took a call (issue 12, review): a call the telephony gateway opened
-- rings on every dashboard until one operator takes it; a call the operator opened by
-- picking up is theirs from the start. Taking is guarded in SQL (only an open call
-- nobody has taken), so two operators can never both take the same call.
ALTER TABLE calls ADD COLUMN taken_by text;
ALTER TABLE calls ADD COLUMN taken_at timestamptz;
ALTER TABLE calls ADD CONSTRAINT calls_taken_together
    CHECK ((taken_by IS NULL) = (taken_at IS NULL));
