"""Every closed list of words the service uses, declared once.

The request schemas, the transition table, the route table's roles, the socket's
viewer, the page guards and the team view's step list are built from these; the
database's CHECK lists repeat them, and tests/test_vocabulary.py proves they agree.
"""

from __future__ import annotations

# --- who --------------------------------------------------------------------------------
ADMIN, OPERATOR, HEALTH_OFFICE, RESPONDER = "admin", "operator", "health_office", "responder"
# The telephony gateway (a machine): opens and ends calls, sends line heartbeats, looks
# numbers up on the block list, forwards AML positions (SMS gateway, HTTPS receiver).
GATEWAY = "gateway"
ROLES = (ADMIN, OPERATOR, HEALTH_OFFICE, RESPONDER, GATEWAY)
# Roles of users, who log in with a password (a responder is a team's phone, with a
# PIN); a gateway user is usually given a long-lived token (`dispatch112 token create`).
USER_ROLES = (ADMIN, OPERATOR, HEALTH_OFFICE, GATEWAY)
# Run the dashboard: every endpoint of calls, incidents, teams and lines, every event.
STAFF = (ADMIN, OPERATOR)
# Open and end calls, send line heartbeats: the dashboard staff and the gateway.
TELEPHONY = (*STAFF, GATEWAY)
# Look a number up on the block list: the gateway before it rings, and the staff.
BLOCKLIST_READERS = (*STAFF, GATEWAY)
# Post the handset's own location (AML): the SMS gateway / HTTPS receiver only.
AML_SENDERS = (GATEWAY,)
# Read the response-time reports (never caller numbers).
REPORT_READERS = (ADMIN, HEALTH_OFFICE)
PUBLIC: tuple[str, ...] = ()
# The page each role lands on after logging in (the gateway has none).
LANDING = {ADMIN: "/dashboard", OPERATOR: "/dashboard", HEALTH_OFFICE: "/reports",
           RESPONDER: "/team"}

# --- teams ------------------------------------------------------------------------------
TEAM_KINDS = ("als", "bls", "motorbike")
# Which team kinds may answer an incident needing `required_kind`: a more capable
# ambulance always may; motorbike first responders only where the incident allows.
KINDS_FOR: dict[str | None, tuple[str, ...]] = {
    "als": ("als",),
    "bls": ("als", "bls"),
    None: ("als", "bls"),
    "motorbike": TEAM_KINDS,
}
# `unreachable`: let an assignment time out by socket and by SMS; back by itself when
# its phone or an SMS from it is heard again (`out_of_service` only an operator ends).
TEAM_STATES = ("available", "dispatched", "en_route", "on_scene", "transporting",
               "at_hospital", "out_of_service", "unreachable")
BUSY_TEAM_STATES = TEAM_STATES[1:6]

# --- incidents --------------------------------------------------------------------------
INCIDENT_STATES = ("queued", "assigned", "acknowledged", "en_route", "on_scene",
                   "transporting", "at_hospital", "closed", "cancelled")
ACTIVE_INCIDENT_STATES = INCIDENT_STATES[:7]
PRIORITIES = (1, 2, 3)  # 1 red (life-threatening), 2 yellow, 3 green
# Steps a responder sends from the phone, in the order they follow each other.
RESPONDER_ACTIONS = ("acknowledge", "en_route", "on_scene", "transporting", "at_hospital",
                     "clear")
# Why an assignment ended.
ASSIGNMENT_END_REASONS = ("completed", "cancelled", "ack_timeout", "reassigned", "withdrawn")

# --- SMS to teams (dispatch/sms/) ------------------------------------------------------
# The channel that reached a team with an assignment, or that a step came by.
CHANNELS = ("app", "sms")
SMS_GATEWAY_KINDS = ("kannel", "jasmin", "playsms")
SMS_KINDS = ("assignment", "withdrawal", "cancellation", "confirmation", "help")
# What an SMS received from a team's number (or a stranger's) came to.
SMS_OUTCOMES = ("applied", "duplicate", "stale", "no_assignment", "not_understood",
                "unknown_sender", "refused")
# The reply digits (contract, "SMS to teams"): the phone's step buttons by SMS.
SMS_DIGITS = {"1": "acknowledge", "2": "en_route", "3": "on_scene", "4": "transporting",
              "5": "at_hospital", "9": "clear"}

# --- calls and lines --------------------------------------------------------------------
CALL_STATES = ("open", "ended")
# How a call ended: it became an incident, or information only, a wrong number, a
# prank or abuse, a silent (ghost) call, dropped, a repeat call about an incident
# already handled (`duplicate`, attached to it), a test call, something else.
CALL_DISPOSITIONS = ("incident", "info", "wrong_number", "prank", "silent", "dropped",
                     "duplicate", "test", "other")
# Dispositions that tie the call to an incident (`incident_id` in POST .../end).
CALL_DISPOSITIONS_WITH_INCIDENT = ("incident", "duplicate")
# Advanced Mobile Location: how the handset found its position, and how it was sent.
AML_METHODS = ("gnss", "wifi", "cell", "hybrid", "unknown")
AML_TRANSPORTS = ("sms", "els")
LINE_STATES = ("unknown", "up", "down")
PROBE_KINDS = ("sip_options", "heartbeat", "none")
# Which router computed an assignment's ETA (routing.ROUTER_NAMES, DISPATCH112_ROUTER).
ETA_SOURCES = ("osm", "osrm", "geodesic")

# --- the planner page -------------------------------------------------------------------
# What a run does: one scenario, several compared on the same calls, a search for bases;
# and where it is (queued and running are the active ones).
PLANNER_RUN_KINDS = ("run", "compare", "search")
PLANNER_RUN_STATES = ("queued", "running", "done", "failed")
ACTIVE_PLANNER_RUN_STATES = PLANNER_RUN_STATES[:2]
