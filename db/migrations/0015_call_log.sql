-- The call log (issue 12): every call, numbers that may be withheld, the full list of
-- dispositions, the block list with its audit, the handset's own location (AML), and
-- the retention of caller numbers.

-- A withheld or unknown number is recorded as NULL (a call, an incident, a callback
-- cannot be queued for it: nobody to call back).
ALTER TABLE calls ALTER COLUMN caller_number DROP NOT NULL;
ALTER TABLE incidents ALTER COLUMN caller_number DROP NOT NULL;
-- (the retention removes the numbers of old callbacks too)
ALTER TABLE callbacks ALTER COLUMN caller_number DROP NOT NULL;

ALTER TABLE calls DROP CONSTRAINT calls_disposition_check;
ALTER TABLE calls ADD CONSTRAINT calls_disposition_check
    CHECK (disposition IN ('incident', 'info', 'wrong_number', 'prank', 'silent', 'dropped',
                           'duplicate', 'test', 'other'));
-- The caller was on the block list when the call came in (it is logged all the same).
ALTER TABLE calls ADD COLUMN blocked boolean NOT NULL DEFAULT false;
-- When the retention removed the caller's number (reports keep the rest).
ALTER TABLE calls ADD COLUMN anonymised_at timestamptz;
ALTER TABLE incidents ADD COLUMN anonymised_at timestamptz;

-- Caller history and the never-block rule look calls up by number, newest first;
-- an incident's calls are counted for its card.
CREATE INDEX calls_number ON calls (caller_number, received_at)
    WHERE caller_number IS NOT NULL;
CREATE INDEX calls_incident ON calls (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX incidents_caller ON incidents (caller_number, received_at)
    WHERE caller_number IS NOT NULL;

-- The block list: one row per decision, never deleted (the audit): who blocked, why,
-- until when, and who lifted it early.
CREATE TABLE blocklist (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1,
    number text NOT NULL,
    reason text NOT NULL CHECK (reason <> ''),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    expires_at timestamptz NOT NULL,
    lifted_at timestamptz,
    lifted_by text,
    CHECK (expires_at > created_at)
);
-- The gateway's lookup: the live rows of one number.
CREATE INDEX blocklist_live ON blocklist (number, expires_at) WHERE lifted_at IS NULL;

-- Advanced Mobile Location: positions the handset sent itself (SMS or HTTPS), tied to
-- the open call from the same number when one is found. IMSI and IMEI are not kept.
CREATE TABLE aml_locations (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1,
    call_id bigint REFERENCES calls (id),
    caller_number text,
    lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    radius_m double precision CHECK (radius_m >= 0),
    confidence smallint CHECK (confidence BETWEEN 0 AND 100),
    method text NOT NULL CHECK (method IN ('gnss', 'wifi', 'cell', 'hybrid', 'unknown')),
    transport text NOT NULL CHECK (transport IN ('sms', 'els')),
    at timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX aml_locations_call ON aml_locations (call_id) WHERE call_id IS NOT NULL;
CREATE INDEX aml_locations_waiting ON aml_locations (caller_number, received_at)
    WHERE call_id IS NULL;
