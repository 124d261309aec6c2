"""Every event the service emits, declared once with its payload.

`emit` takes one of these typed events, never a bare name and dict. Each payload
carries enough for a client to apply it without asking again: `team.updated` the
whole team as GET /api/v1/teams shows it, `incident.created` and `incident.updated`
the whole incident as GET /api/v1/incidents shows it, and so on. Clients replace
their copy with the event's and refetch only on `resync` or a gap in `seq`.

docs/api.md's list of events is generated from this module (`python -m
dispatch.events.docs`); tests/test_event_schema.py checks every event a test run
wrote against its declaration, and the document against the catalogue.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from dispatch.vocabulary import (
    AML_METHODS,
    AML_TRANSPORTS,
    ASSIGNMENT_END_REASONS,
    CALL_DISPOSITIONS,
    CALL_STATES,
    CHANNELS,
    ETA_SOURCES,
    INCIDENT_STATES,
    LINE_STATES,
    PRIORITIES,
    RESPONDER_ACTIONS,
    SMS_OUTCOMES,
    TEAM_KINDS,
    TEAM_STATES,
)

TeamKind = Literal[TEAM_KINDS]
TeamState = Literal[TEAM_STATES]
IncidentState = Literal[INCIDENT_STATES]
Priority = Literal[PRIORITIES]


class Shape(BaseModel):
    """A part of a payload: no field beyond those declared."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Event(Shape):
    """An event's payload; `NAME` is the event's name in the log and on the socket."""

    NAME: ClassVar[str]

    def payload(self) -> dict:
        """The JSON the log stores (times as RFC 3339 in UTC)."""
        return self.model_dump(mode="json")


class Position(Shape):
    lat: float
    lon: float


class TeamPosition(Position):
    at: datetime | None = Field(description="time of the GPS fix; null at the base")
    source: Literal["gps", "base"]


class Shift(Shape):
    id: int
    starts_at: datetime
    ends_at: datetime


class Team(Shape):
    """A team as GET /api/v1/teams lists it."""

    id: int
    code: str
    name: str
    kind: TeamKind
    status: TeamState
    on_duty: bool
    base_name: str
    base: Position
    phone: str | None
    status_changed_at: datetime
    position: TeamPosition
    last_fix_at: datetime | None
    device_seen_at: datetime | None
    signal: Literal["ok", "lost"]
    # (Defaults: events logged before SMS to teams existed lack them.)
    sms_numbers: list[str] = Field(
        default_factory=list, description="numbers SMS go to and replies come from")
    reached_via: Literal[CHANNELS] | None = Field(
        None, description="the channel that last reached the team with an assignment")
    reached_at: datetime | None = None


class Incident(Shape):
    """An incident as GET /api/v1/incidents lists it."""

    id: int
    call_id: int | None
    caller_number: str | None
    district: str | None
    address: str
    complaint: str
    priority: Priority
    required_kind: TeamKind | None
    patients: int
    notes: str
    status: IncidentState
    cancel_reason: str | None
    created_by: str
    team_id: int | None = Field(description="the team on it now, if any")
    location: Position
    received_at: datetime
    created_at: datetime
    assigned_at: datetime | None
    acknowledged_at: datetime | None
    en_route_at: datetime | None
    on_scene_at: datetime | None
    transporting_at: datetime | None
    at_hospital_at: datetime | None
    closed_at: datetime | None
    cancelled_at: datetime | None
    call_count: int = Field(1, description="calls about it: the one it came from and "
                                           "each duplicate attached to it")


class Call(Shape):
    """A call on a 112 line as POST /api/v1/calls answers it."""

    id: int
    caller_number: str | None
    line_id: int | None
    status: Literal[CALL_STATES]
    disposition: Literal[CALL_DISPOSITIONS] | None
    incident_id: int | None
    received_at: datetime
    ended_at: datetime | None
    blocked: bool = Field(False, description="the number was on the block list")
    # (Defaults: events logged before calls were taken lack them.)
    taken_by: str | None = Field(
        None, description="the operator who took the call (null: ringing, nobody yet)")
    taken_at: datetime | None = None


class AmlLocation(Shape):
    """A position the caller's handset sent itself (Advanced Mobile Location)."""

    id: int
    lat: float
    lon: float
    radius_m: float | None
    confidence: int | None = Field(description="percent the caller is within radius_m")
    method: Literal[AML_METHODS]
    transport: Literal[AML_TRANSPORTS]
    at: datetime = Field(description="when the handset fixed the position")
    received_at: datetime


class Block(Shape):
    """A block-list entry, as GET /api/v1/blocklist lists it (the audit trail)."""

    id: int
    number: str
    reason: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    lifted_at: datetime | None
    lifted_by: str | None


class Callback(Shape):
    """A caller to call back, as GET /api/v1/callbacks lists it."""

    id: int
    call_id: int
    caller_number: str | None
    line_id: int | None
    dropped_at: datetime
    done: bool
    done_at: datetime | None
    done_by: str | None


# --- the events -------------------------------------------------------------------------

class IncidentCreated(Incident, Event):
    """An incident was logged (before any team is sent to it)."""

    NAME = "incident.created"


class IncidentUpdated(Incident, Event):
    """An incident changed: allocated, withdrawn, a team's step, cancelled. The whole
    incident after the change, and what changed it."""

    NAME = "incident.updated"
    action: Literal[RESPONDER_ACTIONS] | None = Field(
        None, description="the team's step that changed it, if one did")
    reason: str | None = Field(None, description="why it was cancelled or withdrawn")
    client_id: str | None = Field(None, description="the phone's id of that step")
    via: Literal[CHANNELS] | None = Field(None, description="the channel the step came by")


class AssignmentCreated(Event):
    """A team was sent to an incident: the card the team's phone shows."""

    NAME = "assignment.created"
    assignment_id: int
    incident_id: int
    team_id: int
    team_code: str
    priority: Priority
    location: Position
    address: str
    complaint: str
    eta_s: int
    distance_m: int
    position_source: Literal["gps", "base"]
    eta_source: Literal[ETA_SOURCES] = Field(
        description="the router that computed eta_s: osm (road graph), osrm, geodesic")
    incident: Incident


class AssignmentWithdrawn(Event):
    """A team was taken off an incident (no acknowledgement, reassigned, cancelled)."""

    NAME = "assignment.withdrawn"
    assignment_id: int
    incident_id: int
    team_id: int
    reason: Literal[ASSIGNMENT_END_REASONS]


class TeamUpdated(Team, Event):
    """A team changed: created, status, shift, GPS fix, signal lost or back. The whole
    team after the change."""

    NAME = "team.updated"
    incident_id: int | None = Field(None, description="the incident it was just sent to")
    shift: Shift | None = Field(None, description="the shift just added")
    accuracy_m: float | None = Field(None, description="of the GPS fix just received")


class CallCreated(Call, Event):
    """A call was recorded on a line."""

    NAME = "call.created"


class CallTaken(Call, Event):
    """An operator took a call the gateway opened: the other dashboards stop ringing
    it and say who took it."""

    NAME = "call.taken"


class CallEnded(Call, Event):
    """A call ended with its disposition (`dropped` when its line went down)."""

    NAME = "call.ended"
    reason: Literal["line_down"] | None = None


class CallLocated(Event):
    """The caller's handset sent its position (AML) and it was tied to the open call
    from that number: the dashboard shows it with its radius, for the operator to take
    into the form."""

    NAME = "call.located"
    call_id: int
    caller_number: str | None
    location: AmlLocation


class BlockAdded(Block, Event):
    """An admin blocked a number (pranks, abuse) until `expires_at`."""

    NAME = "blocklist.added"


class BlockLifted(Block, Event):
    """An admin lifted a number's block before it expired."""

    NAME = "blocklist.lifted"


class CallbackCreated(Callback, Event):
    """A dropped call's caller waits to be called back."""

    NAME = "callback.created"
    line_number: str | None = Field(None, description="the number of the line that dropped")


class CallbackUpdated(Callback, Event):
    """A callback was done."""

    NAME = "callback.updated"


class LineStateChanged(Event):
    """A line's state, the active line, the critical alarm or the override changed."""

    NAME = "line.state"
    line_id: int
    number: str
    label: str
    priority: int
    state: Literal[LINE_STATES]
    previous_state: Literal[LINE_STATES] | None
    active_line_id: int | None
    active_number: str | None
    active_label: str | None
    critical: bool
    override: bool
    reason: str
    at: datetime
    history_id: int
    probed_by: str | None


class TeamUnreachable(Event):
    """The alarm: an assignment was acknowledged neither by the phone's socket nor by
    SMS within the ack timeout. Announced before the next team is sent; the team is
    `unreachable` until it is heard from. Call it on these numbers."""

    NAME = "team.unreachable"
    team_id: int
    team_code: str
    team_name: str
    incident_id: int
    assignment_id: int
    numbers: list[str]
    sms_sent_at: datetime | None = Field(description="when its assignment SMS went out")
    at: datetime


class SmsReceived(Event):
    """An SMS came in from a team's number (or a stranger's), and what it came to:
    a step applied, a repeat, a late or not understood reply; the answer sent back."""

    NAME = "sms.received"
    inbound_id: int
    from_number: str
    text: str
    team_id: int | None
    team_code: str | None
    incident_id: int | None
    action: Literal[RESPONDER_ACTIONS] | None
    outcome: Literal[SMS_OUTCOMES]
    reply: str | None = Field(description="the SMS answered, if any")
    at: datetime


EVENTS: dict[str, type[Event]] = {event.NAME: event for event in (
    IncidentCreated, IncidentUpdated, AssignmentCreated, AssignmentWithdrawn, TeamUpdated,
    CallCreated, CallTaken, CallEnded, CallLocated, BlockAdded, BlockLifted, CallbackCreated,
    CallbackUpdated, LineStateChanged, TeamUnreachable, SmsReceived)}


def check_event(name: str, data: dict) -> Event:
    """The typed event of a stored (name, data); KeyError for an undeclared name,
    pydantic.ValidationError for a payload that does not match its declaration."""
    return EVENTS[name].model_validate(data)
