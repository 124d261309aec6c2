-- A change to the districts is announced, so that instances can stop asking. Each
-- new incident read the districts' version (count, latest update) to know whether its
-- in-memory polygons were still current: one round trip per incident for a table
-- that changes a few times a year. Every statement that writes the table now sends
-- NOTIFY districts_changed, delivered at commit; an instance listening for it reads
-- the version only after a notice (or while it is not listening).
CREATE FUNCTION districts_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('districts_changed', '');
    RETURN NULL;
END;
$$;
CREATE TRIGGER districts_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON districts
    FOR EACH STATEMENT EXECUTE FUNCTION districts_changed();
