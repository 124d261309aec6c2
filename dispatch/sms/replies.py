"""Replies from teams by SMS: a digit names the phone's step button, optionally
followed by the incident's short code (contract, "SMS to teams"; docs/sms.md).

The rules, in the order they are applied:
- a message the gateway delivered before (its id) changes nothing again;
- a number registered to no team: logged and shown to operators, no answer;
- any SMS from an `unreachable` team makes it available again (it was heard);
- a text that is not a reply digit: the help text back, shown to operators;
- a code naming another incident than the team's current one, or no current one: a
  late reply, nothing changes, the team is told;
- a step the incident has already reached or passed (a repeat, or a digit arriving
  after a later one): nothing changes, the team is told what is recorded. Nothing
  ever moves an incident backwards;
- a step ahead of the next one (a digit overtaking another on the way): the steps in
  between are applied first, at the same time, each through the phone's own path
  (dispatch.responders.service.do_team_step) with `via: sms`;
- every step applied is confirmed by SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import structlog

from db import assignments as assignments_db
from db import incidents as incidents_db
from db import sms as sms_db
from dispatch.context import Context
from dispatch.errors import DispatchError
from dispatch.events import emit
from dispatch.events.catalogue import SmsReceived
from dispatch.responders.schemas import StatusIn
from dispatch.responders.service import do_team_step
from dispatch.schemas import check_phone
from dispatch.sms import texts
from dispatch.sms.outbox import do_queue
from dispatch.sms.service import do_mark_reachable
from dispatch.states import get_team_steps, get_transition
from dispatch.vocabulary import INCIDENT_STATES

log = structlog.get_logger(__name__)
STATE_WORDS = {"acknowledged": "TERIMA", "en_route": "BERANGKAT", "on_scene": "TIBA",
               "transporting": "MERUJUK", "at_hospital": "DI RS", "closed": "SELESAI",
               "cancelled": "BATAL"}
# At most this many steps are filled in ahead of a reply's own (acknowledge to clear).
MAX_STEPS = 6


@dataclass
class Outcome:
    """What a received SMS came to (the webhook's answer and `sms.received`)."""

    outcome: str
    team_id: int | None = None
    team_code: str | None = None
    incident_id: int | None = None
    action: str | None = None
    reply: str | None = None
    steps: tuple[str, ...] = ()

    def view(self, inbound_id: int | None) -> dict:
        return {"inbound_id": inbound_id, "outcome": self.outcome, "team_id": self.team_id,
                "incident_id": self.incident_id, "action": self.action,
                "steps": list(self.steps), "reply": self.reply}


def get_steps_to(state: str, action: str) -> list[str] | None:
    """The steps that take an incident in `state` through `action`, in order: the
    phone's next buttons until `action` may follow, then `action`. [] when the
    incident has reached or passed the state `action` leads to; None when it cannot
    get there (ended otherwise, e.g. cancelled)."""
    target = get_transition(action).incident.target
    order = INCIDENT_STATES.index
    if state == "cancelled":
        return None
    if state == "closed" or order(state) >= order(target):
        return []
    following, steps = get_team_steps()["next"], []
    while state not in get_transition(action).incident.sources:
        step = following.get(state)
        if step is None or len(steps) >= MAX_STEPS:
            return None
        steps.append(step)
        state = get_transition(step).incident.target
    return [*steps, action]


async def _apply(conn: asyncpg.Connection, ctx: Context, team: asyncpg.Record,
                 incident_id: int, steps: list[str], inbound_id: int) -> str | None:
    """Apply `steps` through the phone's own path; None, or why it was refused (the
    savepoint then undoes every step of this reply)."""
    at = datetime.now(UTC)
    try:
        async with conn.transaction():
            for step in steps:
                body = StatusIn(action=step, incident_id=incident_id, at=at,
                                client_id=f"sms-{inbound_id}-{step}")
                await do_team_step(conn, ctx, team["id"], body, actor=f"team:{team['code']}",
                                   via="sms")
    except DispatchError as exc:
        return exc.detail
    return None


async def _late(conn: asyncpg.Connection, team_id: int,
                reply: texts.Reply) -> tuple[str, int | None, str]:
    """A reply with no current assignment to apply to: (outcome, incident, answer)."""
    last = await sms_db.get_last_assignment(conn, team_id)
    incident_id = reply.incident_id or (last["incident_id"] if last else None)
    if incident_id is None:
        return "no_assignment", None, texts.no_assignment_text(None)
    incident = await incidents_db.get_incident(conn, incident_id)
    if incident is None:  # a code of no incident (mistyped): said so, nothing recorded
        return "stale", None, texts.no_assignment_text(incident_id)
    finished = (last is not None and last["incident_id"] == incident_id
                and last["end_reason"] == "completed")
    if finished and get_steps_to(incident["status"],
                                                          reply.action) == []:
        return "duplicate", incident_id, texts.already_text(incident_id, "SELESAI")
    return "stale", incident_id, texts.no_assignment_text(incident_id)


async def _answer_reply(conn: asyncpg.Connection, ctx: Context, team: asyncpg.Record,
                        reply: texts.Reply, inbound_id: int) -> Outcome:
    known = {"team_id": team["id"], "team_code": team["code"], "action": reply.action}
    assignment = await assignments_db.get_active_assignment(conn, team_id=team["id"])
    if assignment is None or reply.incident_id not in (None, assignment["incident_id"]):
        outcome, incident_id, answer = await _late(conn, team["id"], reply)
        return Outcome(outcome, incident_id=incident_id, reply=answer, **known)
    incident_id = assignment["incident_id"]
    incident = await incidents_db.lock_incident(conn, incident_id)
    steps = get_steps_to(incident["status"], reply.action)
    if not steps:
        word = STATE_WORDS.get(incident["status"], incident["status"].upper())
        return Outcome("duplicate" if steps == [] else "refused", incident_id=incident_id,
                       reply=texts.already_text(incident_id, word), **known)
    refused = await _apply(conn, ctx, team, incident_id, steps, inbound_id)
    if refused is not None:
        log.warning("sms.step_refused", team_id=team["id"], incident_id=incident_id,
                    detail=refused)
        return Outcome("refused", incident_id=incident_id, reply=texts.help_text(), **known)
    return Outcome("applied", incident_id=incident_id, steps=tuple(steps),
                   reply=texts.confirmation_text(incident_id, reply.action), **known)


async def _answer(conn: asyncpg.Connection, ctx: Context, number: str | None, text: str,
                  inbound_id: int) -> Outcome:
    team = await sms_db.get_team_by_number(conn, number) if number else None
    if team is None:
        return Outcome("unknown_sender")
    if team["status"] == "unreachable":
        await do_mark_reachable(conn, ctx, team["id"], actor=f"team:{team['code']}")
    reply = texts.parse_reply(text)
    if reply is None:
        return Outcome("not_understood", team_id=team["id"], team_code=team["code"],
                       reply=texts.help_text())
    return await _answer_reply(conn, ctx, team, reply, inbound_id)


async def do_receive(conn: asyncpg.Connection, ctx: Context, from_number: str, text: str,
                     gateway_id: str | None) -> dict:
    """Take one SMS from the gateway (rules: the module's docstring), in the caller's
    transaction: log it, apply it, queue the answer, tell the operators."""
    number = check_phone(from_number)
    inbound_id = await sms_db.insert_inbound(conn, from_number=number or from_number,
                                             text=text, gateway_id=gateway_id)
    if inbound_id is None:  # the gateway sent this very message again
        return Outcome("duplicate").view(None)
    result = await _answer(conn, ctx, number, text, inbound_id)
    await sms_db.set_inbound_outcome(conn, inbound_id, outcome=result.outcome,
                                     team_id=result.team_id, incident_id=result.incident_id,
                                     action=result.action)
    if result.reply and number:
        kind = "confirmation" if result.outcome in ("applied", "duplicate") else "help"
        await do_queue(conn, ctx, numbers=[number], kind=kind, body=result.reply,
                       team_id=result.team_id, incident_id=result.incident_id)
    await emit(conn, SmsReceived(
        inbound_id=inbound_id, from_number=number or from_number, text=text,
        team_id=result.team_id, team_code=result.team_code, incident_id=result.incident_id,
        action=result.action, outcome=result.outcome, reply=result.reply,
        at=datetime.now(UTC)), actor=f"sms:{number or 'unknown'}",
        incident_id=result.incident_id, team_id=result.team_id)
    log.info("sms.received", inbound_id=inbound_id, outcome=result.outcome,
             team_id=result.team_id, incident_id=result.incident_id, steps=result.steps)
    return result.view(inbound_id)
