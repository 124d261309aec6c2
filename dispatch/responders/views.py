"""What the team's phone is answered: the JSON Schemas of its answers (the shapes
themselves are the incidents' views)."""

from __future__ import annotations

from dispatch.incidents.views import ASSIGNMENT, INCIDENT
from dispatch.openapi import BOOLEAN, INTEGER, STRING, nullable, shape
from dispatch.vocabulary import INCIDENT_STATES, RESPONDER_ACTIONS, TEAM_STATES

# GET /api/v1/team/assignment: the active assignment with its incident, or null.
ASSIGNMENT_ANSWER = shape(assignment=nullable({
    **ASSIGNMENT, "required": [*ASSIGNMENT["required"], "incident"],
    "properties": {**ASSIGNMENT["properties"], "incident": INCIDENT}}))
# POST /api/v1/team/status; `replayed` only when the same client_id came before.
STEP_ANSWER = {
    "type": "object", "additionalProperties": False,
    "required": ["client_id", "ok", "incident_id", "incident_status", "team_status", "action"],
    "properties": {"client_id": STRING, "ok": BOOLEAN, "incident_id": INTEGER,
                   "incident_status": {"enum": list(INCIDENT_STATES)},
                   "team_status": {"enum": list(TEAM_STATES)},
                   "action": {"enum": list(RESPONDER_ACTIONS)}, "replayed": BOOLEAN}}
