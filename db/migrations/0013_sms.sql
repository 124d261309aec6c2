-- SMS to teams (issue 13): registered numbers, the "unreachable" team state, the
-- outbox of SMS to teams, the log of replies, and which channel reached a team.

-- A team that let an assignment time out is "unreachable" (not "out of service"): it
-- comes back by itself when its phone or an SMS from it is heard again.
ALTER TABLE teams DROP CONSTRAINT teams_status_check;
ALTER TABLE teams ADD CONSTRAINT teams_status_check CHECK (status IN (
    'available', 'dispatched', 'en_route', 'on_scene', 'transporting',
    'at_hospital', 'out_of_service', 'unreachable'));

-- The numbers SMS go to and replies are accepted from, in E.164.
ALTER TABLE teams ADD COLUMN sms_numbers text[] NOT NULL DEFAULT '{}';
-- Which channel last reached the team with an assignment ('app' or 'sms'), and when.
ALTER TABLE teams ADD COLUMN reached_via text CHECK (reached_via IN ('app', 'sms'));
ALTER TABLE teams ADD COLUMN reached_at timestamptz;
CREATE INDEX teams_sms_numbers ON teams USING gin (sms_numbers);

-- How an assignment reached its team: when its SMS was accepted by the gateway, and
-- which channel the acknowledgement came by (reports count those by SMS).
ALTER TABLE assignments ADD COLUMN sms_queued_at timestamptz;
ALTER TABLE assignments ADD COLUMN sms_sent_at timestamptz;
ALTER TABLE assignments ADD COLUMN acknowledged_via text
    CHECK (acknowledged_via IN ('app', 'sms'));
ALTER TABLE assignments ADD COLUMN escalated_at timestamptz;

-- Outbound SMS: stored first (in the transaction of the change that causes them),
-- sent by a worker. A message is claimed with a lease (a fresh lease_id and
-- lease_until) by a guarded UPDATE, so two instances never send the same one; a
-- settlement counts only with the lease that claimed it.
CREATE TABLE sms_messages (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    team_id bigint REFERENCES teams (id) ON DELETE SET NULL,
    incident_id bigint REFERENCES incidents (id) ON DELETE SET NULL,
    assignment_id bigint REFERENCES assignments (id) ON DELETE SET NULL,
    kind text NOT NULL CHECK (kind IN (
        'assignment', 'withdrawal', 'cancellation', 'confirmation', 'help')),
    to_number text NOT NULL,
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 480),
    attempts integer NOT NULL DEFAULT 0,
    next_at timestamptz NOT NULL DEFAULT now(),
    lease_id uuid,
    lease_until timestamptz,
    sent_at timestamptz,
    failed_at timestamptz,
    gateway_id text,
    delivered_at timestamptz,
    delivery_status text,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sms_messages_pending ON sms_messages (to_number, id)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX sms_messages_assignment ON sms_messages (assignment_id);
CREATE INDEX sms_messages_gateway_id ON sms_messages (gateway_id);

-- Every SMS received from the gateway, with what the service made of it.
CREATE TABLE sms_inbound (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    from_number text NOT NULL,
    text text NOT NULL,
    gateway_id text,
    team_id bigint REFERENCES teams (id) ON DELETE SET NULL,
    incident_id bigint REFERENCES incidents (id) ON DELETE SET NULL,
    action text,
    outcome text NOT NULL CHECK (outcome IN (
        'applied', 'duplicate', 'stale', 'no_assignment', 'not_understood',
        'unknown_sender', 'refused')),
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sms_inbound_gateway_id ON sms_inbound (gateway_id)
    WHERE gateway_id IS NOT NULL;
