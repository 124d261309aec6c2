-- Districts at two levels: kecamatan (incidents are located in these) and kelurahan
-- (drawn on the map), each with its population when one is known (a city pack's census).
ALTER TABLE districts
    ADD COLUMN level text NOT NULL DEFAULT 'kecamatan',
    ADD COLUMN population integer,
    ADD CONSTRAINT districts_level CHECK (level IN ('kecamatan', 'kelurahan')),
    ADD CONSTRAINT districts_population CHECK (population >= 0),
    DROP CONSTRAINT districts_name_key,
    ADD CONSTRAINT districts_level_name_key UNIQUE (level, name);
