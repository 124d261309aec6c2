"""A plausible past for the demo (`dispatch112 demo --history DAYS`): so that a
newcomer's reports page has months of response times to show.

    model.py     every rate and distribution: volume by day and hour, priorities, step
                 durations (lognormal), travel speeds, shares cancelled, reassigned...
    city.py      where: kelurahan drawn by census population, a point inside the polygon
    simulate.py  the demo's teams working the incidents: nearest free team, a queue when
                 none is, never a team booked twice
    calls.py     the calls (incident, duplicate, info, prank, dropped), line failovers
                 and the callbacks of the calls they dropped
    generate.py  the whole past from a seed, in memory
    service.py   reading what the demo stored, writing the past (db/history.py)

The past is written straight to its tables, without events. The event log records
live changes as they happen, for the pages and sockets that follow them; a past made
up after the fact was never live, so it has no place in the log, and nothing follows
the log from before a page opened (pages read the lists, then the events). Rows of a
history run are marked (created_by / actor `history`), and a second run writes
nothing. Every history row is finished (closed or cancelled, assignments ended,
callbacks done), so the live state (team statuses, the queue, open calls) is
untouched.
"""

from dispatch.history.city import HistoryError
from dispatch.history.service import Loaded, do_load_history

__all__ = ["HistoryError", "Loaded", "do_load_history"]
