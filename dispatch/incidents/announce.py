"""`incident.updated`: every change of an incident announces the whole incident as it
is now, so that dashboards replace their copy without asking again."""

from __future__ import annotations

import asyncpg

from db import incidents as incidents_db
from dispatch.events import emit
from dispatch.events.catalogue import IncidentUpdated
from dispatch.incidents.views import incident_view


async def do_announce_incident(conn: asyncpg.Connection, incident_id: int, *, actor: str,
                               team_id: int | None = None, row: asyncpg.Record | None = None,
                               **extra: object) -> dict:
    """Emit `incident.updated` with the incident as it is now in this transaction (`row`:
    as the caller's last statement that changed it returned it, else read), plus
    `extra` fields of the event (action, reason, client_id). `team_id`: the team whose
    phone should see it too. Returns the incident."""
    incident = incident_view(row if row is not None
                             else await incidents_db.get_incident(conn, incident_id))
    await emit(conn, IncidentUpdated(**incident, **extra), actor=actor,
               incident_id=incident_id, team_id=team_id)
    return incident
