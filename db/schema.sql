CREATE FUNCTION public.districts_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('districts_changed', '');
    RETURN NULL;
END;
$$;
CREATE FUNCTION public.events_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'events is append-only';
END;
$$;
CREATE TABLE public.assignments (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    incident_id bigint NOT NULL,
    team_id bigint NOT NULL,
    eta_s integer NOT NULL,
    distance_m integer NOT NULL,
    position_source text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    acknowledged_at timestamp with time zone,
    ended_at timestamp with time zone,
    end_reason text,
    sms_queued_at timestamp with time zone,
    sms_sent_at timestamp with time zone,
    acknowledged_via text,
    escalated_at timestamp with time zone,
    eta_source text DEFAULT 'geodesic'::text NOT NULL,
    CONSTRAINT assignments_acknowledged_via_check CHECK ((acknowledged_via = ANY (ARRAY['app'::text, 'sms'::text]))),
    CONSTRAINT assignments_end_reason_check CHECK ((end_reason = ANY (ARRAY['completed'::text, 'cancelled'::text, 'ack_timeout'::text, 'reassigned'::text, 'withdrawn'::text]))),
    CONSTRAINT assignments_eta_source_check CHECK ((eta_source = ANY (ARRAY['osm'::text, 'osrm'::text, 'geodesic'::text]))),
    CONSTRAINT assignments_position_source_check CHECK ((position_source = ANY (ARRAY['gps'::text, 'base'::text])))
);
CREATE TABLE public.teams (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    code text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    status text DEFAULT 'available'::text NOT NULL,
    base_name text DEFAULT ''::text NOT NULL,
    base_lat double precision NOT NULL,
    base_lon double precision NOT NULL,
    pin_hash text NOT NULL,
    phone text,
    fix_lat double precision,
    fix_lon double precision,
    fix_accuracy_m double precision,
    fix_at timestamp with time zone,
    status_changed_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    device_seen_at timestamp with time zone,
    signal_lost_at timestamp with time zone,
    fix_announced_at timestamp with time zone,
    demo boolean DEFAULT false NOT NULL,
    sms_numbers text[] DEFAULT '{}'::text[] NOT NULL,
    reached_via text,
    reached_at timestamp with time zone,
    CONSTRAINT teams_base_lat_check CHECK (((base_lat >= ('-90'::integer)::double precision) AND (base_lat <= (90)::double precision))),
    CONSTRAINT teams_base_lon_check CHECK (((base_lon >= ('-180'::integer)::double precision) AND (base_lon <= (180)::double precision))),
    CONSTRAINT teams_fix_lat_check CHECK (((fix_lat >= ('-90'::integer)::double precision) AND (fix_lat <= (90)::double precision))),
    CONSTRAINT teams_fix_lon_check CHECK (((fix_lon >= ('-180'::integer)::double precision) AND (fix_lon <= (180)::double precision))),
    CONSTRAINT teams_kind_check CHECK ((kind = ANY (ARRAY['als'::text, 'bls'::text, 'motorbike'::text]))),
    CONSTRAINT teams_reached_via_check CHECK ((reached_via = ANY (ARRAY['app'::text, 'sms'::text]))),
    CONSTRAINT teams_status_check CHECK ((status = ANY (ARRAY['available'::text, 'dispatched'::text, 'en_route'::text, 'on_scene'::text, 'transporting'::text, 'at_hospital'::text, 'out_of_service'::text, 'unreachable'::text])))
);
CREATE FUNCTION public.reserve_team(p_team_id bigint, p_target text, p_sources text[], p_incident_id bigint, p_eta_s integer, p_distance_m integer, p_position_source text, p_eta_source text) RETURNS TABLE(assignment public.assignments, team public.teams)
    LANGUAGE plpgsql
    AS $$
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
CREATE TABLE public.aml_locations (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    call_id bigint,
    caller_number text,
    lat double precision NOT NULL,
    lon double precision NOT NULL,
    radius_m double precision,
    confidence smallint,
    method text NOT NULL,
    transport text NOT NULL,
    at timestamp with time zone NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT aml_locations_confidence_check CHECK (((confidence >= 0) AND (confidence <= 100))),
    CONSTRAINT aml_locations_lat_check CHECK (((lat >= ('-90'::integer)::double precision) AND (lat <= (90)::double precision))),
    CONSTRAINT aml_locations_lon_check CHECK (((lon >= ('-180'::integer)::double precision) AND (lon <= (180)::double precision))),
    CONSTRAINT aml_locations_method_check CHECK ((method = ANY (ARRAY['gnss'::text, 'wifi'::text, 'cell'::text, 'hybrid'::text, 'unknown'::text]))),
    CONSTRAINT aml_locations_radius_m_check CHECK ((radius_m >= (0)::double precision)),
    CONSTRAINT aml_locations_transport_check CHECK ((transport = ANY (ARRAY['sms'::text, 'els'::text])))
);
ALTER TABLE public.aml_locations ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.aml_locations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
ALTER TABLE public.assignments ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.assignments_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.blocklist (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    number text NOT NULL,
    reason text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    created_by text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    lifted_at timestamp with time zone,
    lifted_by text,
    CONSTRAINT blocklist_check CHECK ((expires_at > created_at)),
    CONSTRAINT blocklist_reason_check CHECK ((reason <> ''::text))
);
ALTER TABLE public.blocklist ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.blocklist_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.callbacks (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    call_id bigint NOT NULL,
    caller_number text,
    line_id bigint,
    dropped_at timestamp with time zone DEFAULT now() NOT NULL,
    done_at timestamp with time zone,
    done_by text
);
ALTER TABLE public.callbacks ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.callbacks_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.calls (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    caller_number text,
    line_id bigint,
    status text DEFAULT 'open'::text NOT NULL,
    disposition text,
    incident_id bigint,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    ended_at timestamp with time zone,
    created_by text NOT NULL,
    blocked boolean DEFAULT false NOT NULL,
    anonymised_at timestamp with time zone,
    taken_by text,
    taken_at timestamp with time zone,
    CONSTRAINT calls_disposition_check CHECK ((disposition = ANY (ARRAY['incident'::text, 'info'::text, 'wrong_number'::text, 'prank'::text, 'silent'::text, 'dropped'::text, 'duplicate'::text, 'test'::text, 'other'::text]))),
    CONSTRAINT calls_status_check CHECK ((status = ANY (ARRAY['open'::text, 'ended'::text]))),
    CONSTRAINT calls_taken_together CHECK (((taken_by IS NULL) = (taken_at IS NULL)))
);
ALTER TABLE public.calls ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.calls_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.districts (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    name text NOT NULL,
    centroid_lat double precision NOT NULL,
    centroid_lon double precision NOT NULL,
    geometry jsonb,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    level text DEFAULT 'kecamatan'::text NOT NULL,
    population integer,
    CONSTRAINT districts_level CHECK ((level = ANY (ARRAY['kecamatan'::text, 'kelurahan'::text]))),
    CONSTRAINT districts_population CHECK ((population >= 0))
);
ALTER TABLE public.districts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.districts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.events (
    seq bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    name text NOT NULL,
    incident_id bigint,
    team_id bigint,
    actor text NOT NULL,
    data jsonb DEFAULT '{}'::jsonb NOT NULL,
    xid xid8 DEFAULT pg_current_xact_id() NOT NULL
);
CREATE TABLE public.events_horizon (
    id boolean DEFAULT true NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    pruned_through bigint DEFAULT 0 NOT NULL,
    CONSTRAINT events_horizon_id_check CHECK (id)
);
ALTER TABLE public.events ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.events_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.idempotency_keys (
    actor text NOT NULL,
    key text NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    request_hash bytea NOT NULL,
    incident_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);
CREATE TABLE public.incidents (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    call_id bigint,
    caller_number text,
    lat double precision NOT NULL,
    lon double precision NOT NULL,
    district_id bigint,
    address text NOT NULL,
    complaint text NOT NULL,
    priority smallint NOT NULL,
    required_kind text,
    patients integer DEFAULT 1 NOT NULL,
    notes text DEFAULT ''::text NOT NULL,
    status text NOT NULL,
    received_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    assigned_at timestamp with time zone,
    acknowledged_at timestamp with time zone,
    en_route_at timestamp with time zone,
    on_scene_at timestamp with time zone,
    transporting_at timestamp with time zone,
    at_hospital_at timestamp with time zone,
    closed_at timestamp with time zone,
    cancelled_at timestamp with time zone,
    cancel_reason text,
    created_by text NOT NULL,
    kelurahan_id bigint,
    last_team_id bigint,
    last_assigned_at timestamp with time zone,
    assignment_count integer DEFAULT 0 NOT NULL,
    dispatch_s double precision GENERATED ALWAYS AS (date_part('epoch'::text, (assigned_at - received_at))) STORED,
    ack_s double precision GENERATED ALWAYS AS (date_part('epoch'::text, (acknowledged_at - last_assigned_at))) STORED,
    turnout_s double precision GENERATED ALWAYS AS (date_part('epoch'::text, (en_route_at - acknowledged_at))) STORED,
    travel_s double precision GENERATED ALWAYS AS (date_part('epoch'::text, (on_scene_at - en_route_at))) STORED,
    response_s double precision GENERATED ALWAYS AS (date_part('epoch'::text, (on_scene_at - received_at))) STORED,
    mobilisation_s double precision GENERATED ALWAYS AS (date_part('epoch'::text, (en_route_at - last_assigned_at))) STORED,
    on_scene_s double precision GENERATED ALWAYS AS (date_part('epoch'::text, (COALESCE(transporting_at, closed_at) - on_scene_at))) STORED,
    transport_s double precision GENERATED ALWAYS AS (date_part('epoch'::text, (at_hospital_at - transporting_at))) STORED,
    handover_s double precision GENERATED ALWAYS AS (date_part('epoch'::text, (closed_at - at_hospital_at))) STORED,
    committed_s double precision GENERATED ALWAYS AS (date_part('epoch'::text, (closed_at - last_assigned_at))) STORED,
    anonymised_at timestamp with time zone,
    CONSTRAINT incidents_lat_check CHECK (((lat >= ('-90'::integer)::double precision) AND (lat <= (90)::double precision))),
    CONSTRAINT incidents_lon_check CHECK (((lon >= ('-180'::integer)::double precision) AND (lon <= (180)::double precision))),
    CONSTRAINT incidents_patients_check CHECK (((patients >= 1) AND (patients <= 500))),
    CONSTRAINT incidents_priority_check CHECK ((priority = ANY (ARRAY[1, 2, 3]))),
    CONSTRAINT incidents_required_kind_check CHECK ((required_kind = ANY (ARRAY['als'::text, 'bls'::text, 'motorbike'::text]))),
    CONSTRAINT incidents_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'assigned'::text, 'acknowledged'::text, 'en_route'::text, 'on_scene'::text, 'transporting'::text, 'at_hospital'::text, 'closed'::text, 'cancelled'::text])))
);
ALTER TABLE public.incidents ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.incidents_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.line_events (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    line_id bigint NOT NULL,
    state text NOT NULL,
    active_line_id bigint,
    critical boolean NOT NULL,
    override boolean NOT NULL,
    reason text NOT NULL,
    actor text NOT NULL,
    probed_by text,
    at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT line_events_state_check CHECK ((state = ANY (ARRAY['unknown'::text, 'up'::text, 'down'::text])))
);
ALTER TABLE public.line_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.line_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.line_monitor (
    region_id integer NOT NULL,
    instance_id text NOT NULL,
    beat_at timestamp with time zone DEFAULT now() NOT NULL
);
CREATE TABLE public.line_status (
    region_id integer NOT NULL,
    active_line_id bigint,
    since timestamp with time zone DEFAULT now() NOT NULL,
    critical boolean DEFAULT false NOT NULL,
    override_line_id bigint,
    override_reason text,
    override_by text,
    override_at timestamp with time zone
);
CREATE TABLE public.lines (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    number text NOT NULL,
    label text NOT NULL,
    priority integer NOT NULL,
    probe jsonb DEFAULT '{"kind": "none"}'::jsonb NOT NULL,
    state text DEFAULT 'unknown'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    ok_streak integer DEFAULT 0 NOT NULL,
    fail_streak integer DEFAULT 0 NOT NULL,
    state_changed_at timestamp with time zone DEFAULT now() NOT NULL,
    checked_at timestamp with time zone,
    last_result text,
    heartbeat_at timestamp with time zone,
    demo boolean DEFAULT false NOT NULL,
    CONSTRAINT lines_priority_check CHECK ((priority >= 0)),
    CONSTRAINT lines_probe_kind CHECK (((probe ->> 'kind'::text) = ANY (ARRAY['sip_options'::text, 'heartbeat'::text, 'none'::text]))),
    CONSTRAINT lines_state_check CHECK ((state = ANY (ARRAY['unknown'::text, 'up'::text, 'down'::text])))
);
ALTER TABLE public.lines ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.lines_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.login_failures (
    key text NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    failures integer DEFAULT 0 NOT NULL,
    last_failure_at timestamp with time zone DEFAULT now() NOT NULL
);
CREATE TABLE public.login_successes (
    address text NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    last_success_at timestamp with time zone DEFAULT now() NOT NULL
);
CREATE TABLE public.places (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    name text NOT NULL,
    kind text NOT NULL,
    lat double precision NOT NULL,
    lon double precision NOT NULL,
    CONSTRAINT places_lat_check CHECK (((lat >= ('-90'::integer)::double precision) AND (lat <= (90)::double precision))),
    CONSTRAINT places_lon_check CHECK (((lon >= ('-180'::integer)::double precision) AND (lon <= (180)::double precision)))
);
ALTER TABLE public.places ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.places_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.regions (
    id integer NOT NULL,
    name text NOT NULL
);
CREATE TABLE public.service_secrets (
    name text NOT NULL,
    value text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT service_secrets_value_check CHECK ((value <> ''::text))
);
CREATE TABLE public.shifts (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    team_id bigint NOT NULL,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT shifts_check CHECK ((ends_at > starts_at))
);
ALTER TABLE public.shifts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.shifts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.sms_inbound (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    from_number text NOT NULL,
    text text NOT NULL,
    gateway_id text,
    team_id bigint,
    incident_id bigint,
    action text,
    outcome text NOT NULL,
    received_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sms_inbound_outcome_check CHECK ((outcome = ANY (ARRAY['applied'::text, 'duplicate'::text, 'stale'::text, 'no_assignment'::text, 'not_understood'::text, 'unknown_sender'::text, 'refused'::text])))
);
ALTER TABLE public.sms_inbound ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.sms_inbound_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.sms_messages (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    team_id bigint,
    incident_id bigint,
    assignment_id bigint,
    kind text NOT NULL,
    to_number text NOT NULL,
    body text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_at timestamp with time zone DEFAULT now() NOT NULL,
    lease_id uuid,
    lease_until timestamp with time zone,
    sent_at timestamp with time zone,
    failed_at timestamp with time zone,
    gateway_id text,
    delivered_at timestamp with time zone,
    delivery_status text,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sms_messages_body_check CHECK (((length(body) >= 1) AND (length(body) <= 480))),
    CONSTRAINT sms_messages_kind_check CHECK ((kind = ANY (ARRAY['assignment'::text, 'withdrawal'::text, 'cancellation'::text, 'confirmation'::text, 'help'::text])))
);
ALTER TABLE public.sms_messages ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.sms_messages_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.status_requests (
    team_id bigint NOT NULL,
    client_id text NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    incident_id bigint NOT NULL,
    action text NOT NULL,
    result jsonb,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);
ALTER TABLE public.teams ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.teams_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.tokens (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    token_hash bytea NOT NULL,
    role text NOT NULL,
    user_id bigint,
    team_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT tokens_check CHECK (((user_id IS NULL) <> (team_id IS NULL))),
    CONSTRAINT tokens_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'operator'::text, 'health_office'::text, 'responder'::text, 'gateway'::text])))
);
ALTER TABLE public.tokens ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.tokens_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.users (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    username text NOT NULL,
    password_hash text NOT NULL,
    role text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    demo boolean DEFAULT false NOT NULL,
    CONSTRAINT users_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'operator'::text, 'health_office'::text, 'gateway'::text])))
);
ALTER TABLE public.users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
CREATE TABLE public.webhook_deliveries (
    id bigint NOT NULL,
    region_id integer DEFAULT 1 NOT NULL,
    url text NOT NULL,
    payload jsonb NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_at timestamp with time zone DEFAULT now() NOT NULL,
    delivered_at timestamp with time zone,
    failed_at timestamp with time zone,
    last_error text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    claimed_by text,
    claimed_until timestamp with time zone
);
ALTER TABLE public.webhook_deliveries ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.webhook_deliveries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);
ALTER TABLE ONLY public.aml_locations
    ADD CONSTRAINT aml_locations_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.assignments
    ADD CONSTRAINT assignments_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.blocklist
    ADD CONSTRAINT blocklist_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.callbacks
    ADD CONSTRAINT callbacks_call_id_key UNIQUE (call_id);
ALTER TABLE ONLY public.callbacks
    ADD CONSTRAINT callbacks_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.calls
    ADD CONSTRAINT calls_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.districts
    ADD CONSTRAINT districts_level_name_key UNIQUE (level, name);
ALTER TABLE ONLY public.districts
    ADD CONSTRAINT districts_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.events_horizon
    ADD CONSTRAINT events_horizon_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (seq);
ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (actor, key);
ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.line_events
    ADD CONSTRAINT line_events_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.line_monitor
    ADD CONSTRAINT line_monitor_pkey PRIMARY KEY (region_id);
ALTER TABLE ONLY public.line_status
    ADD CONSTRAINT line_status_pkey PRIMARY KEY (region_id);
ALTER TABLE ONLY public.lines
    ADD CONSTRAINT lines_number_key UNIQUE (number);
ALTER TABLE ONLY public.lines
    ADD CONSTRAINT lines_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.login_failures
    ADD CONSTRAINT login_failures_pkey PRIMARY KEY (key);
ALTER TABLE ONLY public.login_successes
    ADD CONSTRAINT login_successes_pkey PRIMARY KEY (address);
ALTER TABLE ONLY public.places
    ADD CONSTRAINT places_name_kind_key UNIQUE (name, kind);
ALTER TABLE ONLY public.places
    ADD CONSTRAINT places_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.regions
    ADD CONSTRAINT regions_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.service_secrets
    ADD CONSTRAINT service_secrets_pkey PRIMARY KEY (name);
ALTER TABLE ONLY public.shifts
    ADD CONSTRAINT shifts_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.sms_inbound
    ADD CONSTRAINT sms_inbound_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.sms_messages
    ADD CONSTRAINT sms_messages_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.status_requests
    ADD CONSTRAINT status_requests_pkey PRIMARY KEY (team_id, client_id);
ALTER TABLE ONLY public.teams
    ADD CONSTRAINT teams_code_key UNIQUE (code);
ALTER TABLE ONLY public.teams
    ADD CONSTRAINT teams_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_token_hash_key UNIQUE (token_hash);
ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_username_key UNIQUE (username);
ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id);
CREATE INDEX aml_locations_call ON public.aml_locations USING btree (call_id) WHERE (call_id IS NOT NULL);
CREATE INDEX aml_locations_waiting ON public.aml_locations USING btree (caller_number, received_at) WHERE (call_id IS NULL);
CREATE INDEX assignments_incident ON public.assignments USING btree (incident_id, id);
CREATE UNIQUE INDEX assignments_one_active_per_incident ON public.assignments USING btree (incident_id) WHERE (ended_at IS NULL);
CREATE UNIQUE INDEX assignments_one_active_per_team ON public.assignments USING btree (team_id) WHERE (ended_at IS NULL);
CREATE INDEX assignments_team_day ON public.assignments USING btree (team_id, created_at);
CREATE INDEX assignments_unacknowledged ON public.assignments USING btree (created_at) WHERE ((ended_at IS NULL) AND (acknowledged_at IS NULL));
CREATE INDEX blocklist_live ON public.blocklist USING btree (number, expires_at) WHERE (lifted_at IS NULL);
CREATE INDEX callbacks_open ON public.callbacks USING btree (dropped_at) WHERE (done_at IS NULL);
CREATE INDEX calls_incident ON public.calls USING btree (incident_id) WHERE (incident_id IS NOT NULL);
CREATE INDEX calls_number ON public.calls USING btree (caller_number, received_at) WHERE (caller_number IS NOT NULL);
CREATE INDEX calls_open ON public.calls USING btree (line_id) WHERE (status = 'open'::text);
CREATE INDEX calls_received ON public.calls USING btree (received_at);
CREATE INDEX events_incident ON public.events USING btree (incident_id, seq) WHERE (incident_id IS NOT NULL);
CREATE INDEX events_team ON public.events USING btree (team_id, seq) WHERE (team_id IS NOT NULL);
CREATE INDEX incidents_active ON public.incidents USING btree (status) WHERE (status <> ALL (ARRAY['closed'::text, 'cancelled'::text]));
CREATE INDEX incidents_caller ON public.incidents USING btree (caller_number, received_at) WHERE (caller_number IS NOT NULL);
CREATE INDEX incidents_queue ON public.incidents USING btree (priority, received_at) WHERE (status = 'queued'::text);
CREATE INDEX incidents_received ON public.incidents USING btree (received_at);
CREATE INDEX line_events_at ON public.line_events USING btree (at);
CREATE INDEX line_events_line ON public.line_events USING btree (line_id, id);
CREATE INDEX login_failures_last_failure_at_idx ON public.login_failures USING btree (last_failure_at);
CREATE INDEX login_successes_last_success_at_idx ON public.login_successes USING btree (last_success_at);
CREATE INDEX places_name ON public.places USING btree (lower(name) text_pattern_ops);
CREATE INDEX shifts_team_time ON public.shifts USING btree (team_id, ends_at, starts_at);
CREATE UNIQUE INDEX sms_inbound_gateway_id ON public.sms_inbound USING btree (gateway_id) WHERE (gateway_id IS NOT NULL);
CREATE INDEX sms_messages_assignment ON public.sms_messages USING btree (assignment_id);
CREATE INDEX sms_messages_gateway_id ON public.sms_messages USING btree (gateway_id);
CREATE INDEX sms_messages_pending ON public.sms_messages USING btree (to_number, id) WHERE ((sent_at IS NULL) AND (failed_at IS NULL));
CREATE INDEX teams_sms_numbers ON public.teams USING gin (sms_numbers);
CREATE INDEX webhook_deliveries_due ON public.webhook_deliveries USING btree (next_at) WHERE ((delivered_at IS NULL) AND (failed_at IS NULL));
CREATE TRIGGER districts_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON public.districts FOR EACH STATEMENT EXECUTE FUNCTION public.districts_changed();
CREATE TRIGGER events_no_update BEFORE UPDATE ON public.events FOR EACH ROW EXECUTE FUNCTION public.events_append_only();
ALTER TABLE ONLY public.aml_locations
    ADD CONSTRAINT aml_locations_call_id_fkey FOREIGN KEY (call_id) REFERENCES public.calls(id);
ALTER TABLE ONLY public.assignments
    ADD CONSTRAINT assignments_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES public.incidents(id);
ALTER TABLE ONLY public.assignments
    ADD CONSTRAINT assignments_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.assignments
    ADD CONSTRAINT assignments_team_id_fkey FOREIGN KEY (team_id) REFERENCES public.teams(id);
ALTER TABLE ONLY public.callbacks
    ADD CONSTRAINT callbacks_call_id_fkey FOREIGN KEY (call_id) REFERENCES public.calls(id);
ALTER TABLE ONLY public.callbacks
    ADD CONSTRAINT callbacks_line_id_fkey FOREIGN KEY (line_id) REFERENCES public.lines(id);
ALTER TABLE ONLY public.callbacks
    ADD CONSTRAINT callbacks_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.calls
    ADD CONSTRAINT calls_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES public.incidents(id);
ALTER TABLE ONLY public.calls
    ADD CONSTRAINT calls_line_id_fkey FOREIGN KEY (line_id) REFERENCES public.lines(id);
ALTER TABLE ONLY public.calls
    ADD CONSTRAINT calls_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.districts
    ADD CONSTRAINT districts_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.events_horizon
    ADD CONSTRAINT events_horizon_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.events
    ADD CONSTRAINT events_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES public.incidents(id);
ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_call_id_fkey FOREIGN KEY (call_id) REFERENCES public.calls(id);
ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_district_id_fkey FOREIGN KEY (district_id) REFERENCES public.districts(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_kelurahan_id_fkey FOREIGN KEY (kelurahan_id) REFERENCES public.districts(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_last_team_id_fkey FOREIGN KEY (last_team_id) REFERENCES public.teams(id);
ALTER TABLE ONLY public.incidents
    ADD CONSTRAINT incidents_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.line_events
    ADD CONSTRAINT line_events_active_line_id_fkey FOREIGN KEY (active_line_id) REFERENCES public.lines(id);
ALTER TABLE ONLY public.line_events
    ADD CONSTRAINT line_events_line_id_fkey FOREIGN KEY (line_id) REFERENCES public.lines(id);
ALTER TABLE ONLY public.line_events
    ADD CONSTRAINT line_events_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.line_monitor
    ADD CONSTRAINT line_monitor_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.line_status
    ADD CONSTRAINT line_status_active_line_id_fkey FOREIGN KEY (active_line_id) REFERENCES public.lines(id);
ALTER TABLE ONLY public.line_status
    ADD CONSTRAINT line_status_override_line_id_fkey FOREIGN KEY (override_line_id) REFERENCES public.lines(id);
ALTER TABLE ONLY public.line_status
    ADD CONSTRAINT line_status_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.lines
    ADD CONSTRAINT lines_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.login_failures
    ADD CONSTRAINT login_failures_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.login_successes
    ADD CONSTRAINT login_successes_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.places
    ADD CONSTRAINT places_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.shifts
    ADD CONSTRAINT shifts_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.shifts
    ADD CONSTRAINT shifts_team_id_fkey FOREIGN KEY (team_id) REFERENCES public.teams(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.sms_inbound
    ADD CONSTRAINT sms_inbound_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES public.incidents(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.sms_inbound
    ADD CONSTRAINT sms_inbound_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.sms_inbound
    ADD CONSTRAINT sms_inbound_team_id_fkey FOREIGN KEY (team_id) REFERENCES public.teams(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.sms_messages
    ADD CONSTRAINT sms_messages_assignment_id_fkey FOREIGN KEY (assignment_id) REFERENCES public.assignments(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.sms_messages
    ADD CONSTRAINT sms_messages_incident_id_fkey FOREIGN KEY (incident_id) REFERENCES public.incidents(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.sms_messages
    ADD CONSTRAINT sms_messages_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.sms_messages
    ADD CONSTRAINT sms_messages_team_id_fkey FOREIGN KEY (team_id) REFERENCES public.teams(id) ON DELETE SET NULL;
ALTER TABLE ONLY public.status_requests
    ADD CONSTRAINT status_requests_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.status_requests
    ADD CONSTRAINT status_requests_team_id_fkey FOREIGN KEY (team_id) REFERENCES public.teams(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.teams
    ADD CONSTRAINT teams_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_team_id_fkey FOREIGN KEY (team_id) REFERENCES public.teams(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE;
ALTER TABLE ONLY public.users
    ADD CONSTRAINT users_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
ALTER TABLE ONLY public.webhook_deliveries
    ADD CONSTRAINT webhook_deliveries_region_id_fkey FOREIGN KEY (region_id) REFERENCES public.regions(id);
