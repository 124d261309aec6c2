"""The advisory lock keys of the service, declared once.

Every instance takes the same keys; two keys must never collide, or unrelated work
would wait on each other. The event log's key is also written in migration 0002
(its trigger takes it); tests/test_vocabulary.py checks the two agree.
"""

from __future__ import annotations

# Session lock: one migrator at a time.
MIGRATION = 112_0001
# Transaction lock the event log's writers took from migration 0002 to 0017 (seq order
# was commit order); readers now keep to the safe horizon instead (realtime/horizon.py).
# Kept so that the key is never given to anything else.
EVENT_LOG = 112_0002
# Transaction lock: one queue server at a time across instances.
QUEUE = 112_0003
# Session lock held by the instance that probes the 112 lines.
LINE_MONITOR = 112_0005

KEYS = {"MIGRATION": MIGRATION, "EVENT_LOG": EVENT_LOG, "QUEUE": QUEUE,
        "LINE_MONITOR": LINE_MONITOR}
