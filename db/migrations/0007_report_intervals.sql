-- Report intervals, kept by PostgreSQL itself on every write of an incident: a report
-- over years then reads them instead of computing ten intervals per incident per
-- request (definitions: docs/reports.md). NULL until both ends of an interval happened.
ALTER TABLE incidents
    ADD COLUMN dispatch_s float8 GENERATED ALWAYS AS (date_part('epoch', assigned_at - received_at)) STORED,
    ADD COLUMN ack_s float8 GENERATED ALWAYS AS (date_part('epoch', acknowledged_at - last_assigned_at)) STORED,
    ADD COLUMN turnout_s float8 GENERATED ALWAYS AS (date_part('epoch', en_route_at - acknowledged_at)) STORED,
    ADD COLUMN travel_s float8 GENERATED ALWAYS AS (date_part('epoch', on_scene_at - en_route_at)) STORED,
    ADD COLUMN response_s float8 GENERATED ALWAYS AS (date_part('epoch', on_scene_at - received_at)) STORED,
    ADD COLUMN mobilisation_s float8 GENERATED ALWAYS AS (date_part('epoch', en_route_at - last_assigned_at)) STORED,
    ADD COLUMN on_scene_s float8 GENERATED ALWAYS AS (date_part('epoch', coalesce(transporting_at, closed_at) - on_scene_at)) STORED,
    ADD COLUMN transport_s float8 GENERATED ALWAYS AS (date_part('epoch', at_hospital_at - transporting_at)) STORED,
    ADD COLUMN handover_s float8 GENERATED ALWAYS AS (date_part('epoch', closed_at - at_hospital_at)) STORED,
    ADD COLUMN committed_s float8 GENERATED ALWAYS AS (date_part('epoch', closed_at - last_assigned_at)) STORED;
