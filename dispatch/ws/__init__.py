"""GET /ws: the live feed of the event log for dashboards and phones."""
