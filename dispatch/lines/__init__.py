"""Line failover: the 112 number and its backups, probed, failed over and back. URLs:
/api/v1/lines/*, /api/v1/hotline, /api/v1/callbacks/*.

endpoints.py the HTTP operations
schemas.py   request bodies: a line with its probe, the override

states.py    the state machine of one line and the choice of the active line (pure)
probes.py    a line's probe settings, read from its stored JSON
sip.py       SIP OPTIONS over UDP (the `sip_options` probe)
service.py   applying results and overrides: line history, events, the hotline
callbacks.py calls dropped with a line that went down, to be called back
webhooks.py  failover notifications to outside systems, retried with backoff
leader.py    which instance probes: a PostgreSQL advisory lock on its own connection
monitor.py   the probe loops the leading instance runs
timing.py    waiting in those loops without losing a cancellation
views.py     how lines, their history, the hotline and callbacks are shown
"""
