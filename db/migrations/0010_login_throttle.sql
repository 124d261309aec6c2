-- Login throttling per (account, client address) and per client address: the keys of
-- login_failures now name both (docs/api.md, Login lockout). Old rows are pruned by
-- their age, so index it; addresses that logged in successfully get more slack.
CREATE INDEX login_failures_last_failure_at_idx ON login_failures (last_failure_at);

CREATE TABLE login_successes (
    address text PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    last_success_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_successes_last_success_at_idx ON login_successes (last_success_at);
