-- dispatch112 initial schema.
-- Every table carries region_id so a national deployment can partition by region.

CREATE TABLE regions (
    id integer PRIMARY KEY,
    name text NOT NULL
);
INSERT INTO regions (id, name) VALUES (1, 'default');

CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    username text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'operator', 'health_office')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE teams (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    code text NOT NULL UNIQUE,
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('als', 'bls', 'motorbike')),
    status text NOT NULL DEFAULT 'available' CHECK (status IN (
        'available', 'dispatched', 'en_route', 'on_scene', 'transporting',
        'at_hospital', 'out_of_service')),
    base_name text NOT NULL DEFAULT '',
    base_lat double precision NOT NULL CHECK (base_lat BETWEEN -90 AND 90),
    base_lon double precision NOT NULL CHECK (base_lon BETWEEN -180 AND 180),
    pin_hash text NOT NULL,
    phone text,
    fix_lat double precision CHECK (fix_lat BETWEEN -90 AND 90),
    fix_lon double precision CHECK (fix_lon BETWEEN -180 AND 180),
    fix_accuracy_m double precision,
    fix_at timestamptz,
    status_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE shifts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    team_id bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX shifts_team_time ON shifts (team_id, ends_at, starts_at);

-- Session tokens of users and team devices. Only a SHA-256 of the token is kept:
-- tokens are 256-bit random, so a fast hash is enough and lookups stay cheap.
CREATE TABLE tokens (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    token_hash bytea NOT NULL UNIQUE,
    role text NOT NULL CHECK (role IN ('admin', 'operator', 'health_office', 'responder')),
    user_id bigint REFERENCES users (id) ON DELETE CASCADE,
    team_id bigint REFERENCES teams (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    CHECK ((user_id IS NULL) <> (team_id IS NULL))
);

-- Failed logins per account key, to slow down guessing across all instances.
CREATE TABLE login_failures (
    key text PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    failures integer NOT NULL DEFAULT 0,
    last_failure_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE districts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    name text NOT NULL UNIQUE,
    centroid_lat double precision NOT NULL,
    centroid_lon double precision NOT NULL,
    geometry jsonb,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE lines (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    number text NOT NULL UNIQUE,
    label text NOT NULL,
    priority integer NOT NULL CHECK (priority >= 0),
    probe jsonb NOT NULL DEFAULT '{"kind": "none"}',
    state text NOT NULL DEFAULT 'unknown' CHECK (state IN ('unknown', 'up', 'down')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE calls (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    caller_number text NOT NULL,
    line_id bigint REFERENCES lines (id),
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'ended')),
    disposition text CHECK (disposition IN ('incident', 'info', 'prank', 'dropped', 'duplicate')),
    incident_id bigint,
    received_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    created_by text NOT NULL
);
CREATE INDEX calls_open ON calls (line_id) WHERE status = 'open';

CREATE TABLE incidents (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    call_id bigint REFERENCES calls (id),
    caller_number text NOT NULL,
    lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    district_id bigint REFERENCES districts (id) ON DELETE SET NULL,
    address text NOT NULL,
    complaint text NOT NULL,
    priority smallint NOT NULL CHECK (priority IN (1, 2, 3)),
    required_kind text CHECK (required_kind IN ('als', 'bls', 'motorbike')),
    patients integer NOT NULL DEFAULT 1 CHECK (patients BETWEEN 1 AND 500),
    notes text NOT NULL DEFAULT '',
    status text NOT NULL CHECK (status IN (
        'queued', 'assigned', 'acknowledged', 'en_route', 'on_scene', 'transporting',
        'at_hospital', 'closed', 'cancelled')),
    received_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    assigned_at timestamptz,
    acknowledged_at timestamptz,
    en_route_at timestamptz,
    on_scene_at timestamptz,
    transporting_at timestamptz,
    at_hospital_at timestamptz,
    closed_at timestamptz,
    cancelled_at timestamptz,
    cancel_reason text,
    created_by text NOT NULL
);
-- The queue: served by priority, then age.
CREATE INDEX incidents_queue ON incidents (priority, received_at) WHERE status = 'queued';
CREATE INDEX incidents_active ON incidents (status) WHERE status NOT IN ('closed', 'cancelled');
ALTER TABLE calls ADD FOREIGN KEY (incident_id) REFERENCES incidents (id);

CREATE TABLE assignments (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    incident_id bigint NOT NULL REFERENCES incidents (id),
    team_id bigint NOT NULL REFERENCES teams (id),
    eta_s integer NOT NULL,
    distance_m integer NOT NULL,
    position_source text NOT NULL CHECK (position_source IN ('gps', 'base')),
    created_at timestamptz NOT NULL DEFAULT now(),
    acknowledged_at timestamptz,
    ended_at timestamptz,
    end_reason text CHECK (end_reason IN (
        'completed', 'cancelled', 'ack_timeout', 'reassigned', 'withdrawn'))
);
-- The invariant the whole service rests on: a team is never on two active
-- assignments, and an incident never has two teams sent by the allocator at once.
CREATE UNIQUE INDEX assignments_one_active_per_team ON assignments (team_id) WHERE ended_at IS NULL;
CREATE UNIQUE INDEX assignments_one_active_per_incident ON assignments (incident_id) WHERE ended_at IS NULL;
CREATE INDEX assignments_unacknowledged ON assignments (created_at)
    WHERE ended_at IS NULL AND acknowledged_at IS NULL;
CREATE INDEX assignments_team_day ON assignments (team_id, created_at);

-- Idempotency-Key of POST /api/v1/incidents, per user.
CREATE TABLE idempotency_keys (
    actor text NOT NULL,
    key text NOT NULL,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    request_hash bytea NOT NULL,
    incident_id bigint REFERENCES incidents (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (actor, key)
);

-- client_id of responder status steps, so a phone replaying its queue has no second effect.
CREATE TABLE status_requests (
    team_id bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    client_id text NOT NULL,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    incident_id bigint NOT NULL,
    action text NOT NULL,
    result jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, client_id)
);

-- The append-only event log: one row per change, written in the changing
-- transaction. xid lets readers hold back events whose transaction may still
-- be in flight (seq is taken at insert, not at commit).
CREATE TABLE events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    at timestamptz NOT NULL DEFAULT now(),
    name text NOT NULL,
    incident_id bigint,
    team_id bigint,
    actor text NOT NULL,
    data jsonb NOT NULL DEFAULT '{}',
    xid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX events_incident ON events (incident_id, seq) WHERE incident_id IS NOT NULL;
CREATE INDEX events_team ON events (team_id, seq) WHERE team_id IS NOT NULL;

CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only';
END;
$$;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_append_only();
