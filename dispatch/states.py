"""The one transition table for incident and team states.

Each action names, for the incident and for the team it concerns, the states
it may start from and the state it leads to. The database applies a step only
while the row is still in one of the `from` states (a guarded UPDATE), so two
racing requests cannot both take it.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.vocabulary import ACTIVE_INCIDENT_STATES, BUSY_TEAM_STATES, RESPONDER_ACTIONS


@dataclass(frozen=True)
class Step:
    """A guarded change of one row: allowed from `sources`, leads to `target`."""

    sources: tuple[str, ...]
    target: str


@dataclass(frozen=True)
class Transition:
    """What one action does to the incident and to the team (None: leaves it alone)."""

    incident: Step | None
    team: Step | None
    # Column of incidents stamped with the time of the step (reports read it).
    stamp: str | None = None
    # Step times the incident forgets: they described a team that was taken off.
    clears: tuple[str, ...] = ()


TRANSITIONS: dict[str, Transition] = {
    # The allocator sends a free team to a waiting incident.
    "allocate": Transition(Step(("queued",), "assigned"), Step(("available",), "dispatched"),
                           "assigned_at"),
    # Ack timeout or manual reassignment takes the team off; the incident waits again.
    "withdraw": Transition(Step(("assigned", "acknowledged", "en_route"), "queued"),
                           Step(BUSY_TEAM_STATES, "available"),
                           clears=("acknowledged_at", "en_route_at")),
    "acknowledge": Transition(Step(("assigned",), "acknowledged"),
                              Step(("dispatched",), "dispatched"), "acknowledged_at"),
    "en_route": Transition(Step(("acknowledged",), "en_route"),
                           Step(("dispatched",), "en_route"), "en_route_at"),
    "on_scene": Transition(Step(("en_route",), "on_scene"),
                           Step(("en_route",), "on_scene"), "on_scene_at"),
    "transporting": Transition(Step(("on_scene",), "transporting"),
                               Step(("on_scene",), "transporting"), "transporting_at"),
    "at_hospital": Transition(Step(("transporting",), "at_hospital"),
                              Step(("transporting",), "at_hospital"), "at_hospital_at"),
    # Treated on scene without transport, or handed over at the hospital.
    "clear": Transition(Step(("on_scene", "at_hospital"), "closed"),
                        Step(("on_scene", "at_hospital"), "available"), "closed_at"),
    "cancel": Transition(Step(ACTIVE_INCIDENT_STATES, "cancelled"),
                         Step(BUSY_TEAM_STATES, "available"), "cancelled_at"),
    # A team that answered neither its phone's socket nor SMS is not sent again until
    # it is heard from ("reachable") or an operator puts it back in service.
    "no_answer": Transition(None, Step(("dispatched",), "unreachable")),
    "reachable": Transition(None, Step(("unreachable",), "available")),
    "out_of_service": Transition(None, Step(("available", "unreachable"), "out_of_service")),
    "in_service": Transition(None, Step(("out_of_service", "unreachable"), "available")),
}


def get_transition(action: str) -> Transition:
    """The transition of `action`; KeyError for an unknown action."""
    return TRANSITIONS[action]


def get_team_steps() -> dict[str, dict[str, str]]:
    """The team view's step list, from the table: `next`, the step a phone offers for
    each incident state (the first responder action that state allows), and `after`,
    the incident state each step leads to."""
    following: dict[str, str] = {}
    for action in RESPONDER_ACTIONS:
        for state in TRANSITIONS[action].incident.sources:
            following.setdefault(state, action)
    return {"next": following,
            "after": {action: TRANSITIONS[action].incident.target
                      for action in RESPONDER_ACTIONS}}
