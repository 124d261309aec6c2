-- The gazetteer the call-taker searches: kelurahan, health facilities, landmarks.
CREATE TABLE places (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    region_id integer NOT NULL DEFAULT 1 REFERENCES regions (id),
    name text NOT NULL,
    kind text NOT NULL,
    lat double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    UNIQUE (name, kind)
);
CREATE INDEX places_name ON places (lower(name) text_pattern_ops);
