-- Line failover: probe results and heartbeats on the lines, which line is active,
-- the line history, the callback queue, the probing instance, failover webhooks.

-- Consecutive probe results (so a new probing instance continues the count), the
-- last result for the dashboard, and when the telephony gateway last sent a heartbeat.
ALTER TABLE lines
    ADD COLUMN ok_streak integer NOT NULL DEFAULT 0,
    ADD COLUMN fail_streak integer NOT NULL DEFAULT 0,
    ADD COLUMN state_changed_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN checked_at timestamptz,
    ADD COLUMN last_result text,
    ADD COLUMN heartbeat_at timestamptz,
    ADD CONSTRAINT lines_probe_kind CHECK (probe ->> 'kind' IN ('sip_options', 'heartbeat', 'none'));

-- The line to call now, one row per region. Every change to lines or to the override
-- locks this row first, so line changes are serialised and never deadlock.
CREATE TABLE line_status (
    region_id integer PRIMARY KEY REFERENCES regions (id),
    active_line_id bigint REFERENCES lines (id),
    since timestamptz NOT NULL DEFAULT now(),
    critical boolean NOT NULL DEFAULT false,
    override_line_id bigint REFERENCES lines (id),
    override_reason text,
    override_by text,
    override_at timestamptz
);
INSERT INTO line_status (region_id) VALUES (1);

-- The line history: one row per change of a line's state, of the active line or of
-- the override, with the active line after it; `probed_by` names the instance whose
-- probes caused a state change.
CREATE TABLE line_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    line_id bigint NOT NULL REFERENCES lines (id),
    state text NOT NULL CHECK (state IN ('unknown', 'up', 'down')),
    active_line_id bigint REFERENCES lines (id),
    critical boolean NOT NULL,
    override boolean NOT NULL,
    reason text NOT NULL,
    actor text NOT NULL,
    probed_by text,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX line_events_line ON line_events (line_id, id);

-- Callers whose call was open on a line that went down: an operator calls them back.
CREATE TABLE callbacks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    call_id bigint NOT NULL UNIQUE REFERENCES calls (id),
    caller_number text NOT NULL,
    line_id bigint REFERENCES lines (id),
    dropped_at timestamptz NOT NULL DEFAULT now(),
    done_at timestamptz,
    done_by text
);
CREATE INDEX callbacks_open ON callbacks (dropped_at) WHERE done_at IS NULL;

-- The instance that probes the lines (it holds the monitor's advisory lock) and when
-- it last showed it is alive; a standby ends a leader whose beat has gone stale.
CREATE TABLE line_monitor (
    region_id integer PRIMARY KEY REFERENCES regions (id),
    instance_id text NOT NULL,
    beat_at timestamptz NOT NULL DEFAULT now()
);

-- Failover notifications to outside systems (SMS gateway, WhatsApp bot, city
-- website): written with the change that caused them, delivered and retried after.
CREATE TABLE webhook_deliveries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    url text NOT NULL,
    payload jsonb NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    failed_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_at)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
