"""SMS to teams: the outbox of messages, the log of replies, registered numbers, and
which channel reached a team."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

MESSAGE_COLUMNS = """id, team_id, incident_id, assignment_id, kind, to_number, body,
    attempts, next_at, lease_id, lease_until, sent_at, failed_at, gateway_id,
    delivered_at, delivery_status, last_error, created_at"""


# --- numbers and teams ------------------------------------------------------------------

async def set_team_numbers(conn: asyncpg.Connection, team_id: int,
                           numbers: list[str]) -> bool:
    """Replace the team's registered SMS numbers; False when there is no such team."""
    status = await conn.execute("UPDATE teams SET sms_numbers = $2 WHERE id = $1",
                                team_id, numbers)
    return status.endswith(" 1")


async def get_team_numbers(conn: asyncpg.Connection, team_id: int) -> list[str]:
    """The team's registered numbers: its SMS numbers, then its phone if not among them."""
    row = await conn.fetchrow("SELECT sms_numbers, phone FROM teams WHERE id = $1", team_id)
    if row is None:
        return []
    numbers = list(row["sms_numbers"])
    if row["phone"] and row["phone"] not in numbers:
        numbers.append(row["phone"])
    return numbers


async def get_team_by_number(conn: asyncpg.Connection, number: str) -> asyncpg.Record | None:
    """The team `number` (E.164) is registered to. A number registered to two teams
    matches the one with the lowest id."""
    return await conn.fetchrow(
        """SELECT id, code, status FROM teams
           WHERE $1 = ANY(sms_numbers) OR phone = $1 ORDER BY id LIMIT 1""",
        number)


async def set_team_reached(conn: asyncpg.Connection, team_id: int, via: str,
                           at: datetime | None = None) -> None:
    await conn.execute(
        "UPDATE teams SET reached_via = $2, reached_at = coalesce($3, now()) WHERE id = $1",
        team_id, via, at)


# --- assignments ------------------------------------------------------------------------

async def get_assignments_for_sms(conn: asyncpg.Connection, connected: list[int],
                                  after_s: float, limit: int = 50) -> list[asyncpg.Record]:
    """Active, unacknowledged assignments whose SMS is not queued yet and is due: the
    team has no socket here (`connected`), or `after_s` passed without an ack."""
    return await conn.fetch(
        """SELECT a.id, a.incident_id, a.team_id FROM assignments a
           WHERE a.ended_at IS NULL AND a.acknowledged_at IS NULL
             AND a.sms_queued_at IS NULL
             AND (a.team_id <> ALL($1)
                  OR a.created_at <= now() - make_interval(secs => $2))
           ORDER BY a.created_at LIMIT $3""", connected, float(after_s), limit)


async def mark_sms_queued(conn: asyncpg.Connection, assignment_id: int) -> bool:
    """Claim the assignment's SMS for this transaction; False when queued already (by
    another instance) or the assignment ended or was acknowledged meanwhile."""
    status = await conn.execute(
        """UPDATE assignments SET sms_queued_at = now()
           WHERE id = $1 AND sms_queued_at IS NULL AND ended_at IS NULL
             AND acknowledged_at IS NULL""", assignment_id)
    return status.endswith(" 1")


async def note_assignment_sms_sent(conn: asyncpg.Connection,
                                   assignment_id: int) -> asyncpg.Record | None:
    """The first accepted SMS of an assignment: stamp it; the team, when it was still
    unacknowledged (then it is the SMS that reached the team)."""
    return await conn.fetchrow(
        """UPDATE assignments SET sms_sent_at = now()
           WHERE id = $1 AND sms_sent_at IS NULL
           RETURNING team_id, acknowledged_at IS NULL AS unacknowledged""", assignment_id)


async def mark_escalated(conn: asyncpg.Connection, assignment_id: int) -> None:
    await conn.execute("UPDATE assignments SET escalated_at = now() WHERE id = $1",
                       assignment_id)


async def get_assignment_sms_sent_at(conn: asyncpg.Connection,
                                     assignment_id: int) -> datetime | None:
    return await conn.fetchval("SELECT sms_sent_at FROM assignments WHERE id = $1",
                               assignment_id)


async def has_assignment_sms(conn: asyncpg.Connection, assignment_id: int) -> bool:
    """Whether an assignment SMS was queued for it (then its end goes by SMS too)."""
    return bool(await conn.fetchval(
        "SELECT sms_queued_at IS NOT NULL FROM assignments WHERE id = $1", assignment_id))


async def get_last_assignment(conn: asyncpg.Connection,
                              team_id: int) -> asyncpg.Record | None:
    """The team's most recent assignment, ended or not."""
    return await conn.fetchrow(
        """SELECT id, incident_id, ended_at, end_reason FROM assignments
           WHERE team_id = $1 ORDER BY created_at DESC, id DESC LIMIT 1""", team_id)


# --- the outbox -------------------------------------------------------------------------

async def insert_messages(conn: asyncpg.Connection, *, numbers: list[str], kind: str,
                          body: str, team_id: int | None, incident_id: int | None = None,
                          assignment_id: int | None = None) -> list[int]:
    """Queue `body` to each of `numbers`; the ids, in the order they will go."""
    ids = []
    for number in numbers:
        ids.append(await conn.fetchval(
            """INSERT INTO sms_messages
                   (team_id, incident_id, assignment_id, kind, to_number, body)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id""",
            team_id, incident_id, assignment_id, kind, number, body))
    return ids


async def claim_due(conn: asyncpg.Connection, lease_s: float,
                    limit: int) -> list[asyncpg.Record]:
    """Claim due messages for one attempt each, with a new lease: only the oldest
    unsent message of each number (messages to one phone go in order), and never one
    whose lease still runs. The guard is re-checked on the locked row, so of two
    instances claiming at once exactly one gets it."""
    return await conn.fetch(
        f"""UPDATE sms_messages SET attempts = attempts + 1, lease_id = gen_random_uuid(),
                lease_until = now() + make_interval(secs => $1)
            WHERE id IN (
                SELECT h.id FROM sms_messages h
                WHERE h.sent_at IS NULL AND h.failed_at IS NULL AND h.next_at <= now()
                  AND (h.lease_until IS NULL OR h.lease_until <= now())
                  AND NOT EXISTS (
                      SELECT 1 FROM sms_messages e
                      WHERE e.to_number = h.to_number AND e.id < h.id
                        AND e.sent_at IS NULL AND e.failed_at IS NULL)
                ORDER BY h.id LIMIT $2 FOR UPDATE SKIP LOCKED)
              AND sent_at IS NULL AND failed_at IS NULL
              AND (lease_until IS NULL OR lease_until <= now())
            RETURNING {MESSAGE_COLUMNS}""", float(lease_s), limit)


async def mark_sent(conn: asyncpg.Connection, message_id: int, lease_id: UUID,
                    gateway_id: str | None) -> asyncpg.Record | None:
    """Sent, if still under the lease that claimed it; None when the lease was lost."""
    return await conn.fetchrow(
        f"""UPDATE sms_messages SET sent_at = now(), gateway_id = $3, lease_until = NULL,
                last_error = NULL
            WHERE id = $1 AND lease_id = $2 AND sent_at IS NULL
            RETURNING {MESSAGE_COLUMNS}""", message_id, lease_id, gateway_id)


async def reschedule(conn: asyncpg.Connection, message_id: int, lease_id: UUID,
                     delay_s: float, error: str) -> None:
    await conn.execute(
        """UPDATE sms_messages SET next_at = now() + make_interval(secs => $3),
               lease_until = NULL, last_error = $4
           WHERE id = $1 AND lease_id = $2 AND sent_at IS NULL""",
        message_id, lease_id, delay_s, error)


async def mark_failed(conn: asyncpg.Connection, message_id: int, lease_id: UUID,
                      error: str) -> None:
    await conn.execute(
        """UPDATE sms_messages SET failed_at = now(), lease_until = NULL, last_error = $3
           WHERE id = $1 AND lease_id = $2 AND sent_at IS NULL""",
        message_id, lease_id, error)


async def set_delivery(conn: asyncpg.Connection, gateway_id: str, status: str,
                       delivered: bool) -> asyncpg.Record | None:
    """A delivery report for the message the gateway knows as `gateway_id`."""
    return await conn.fetchrow(
        f"""UPDATE sms_messages SET delivery_status = $2,
                delivered_at = CASE WHEN $3 THEN coalesce(delivered_at, now())
                                    ELSE delivered_at END
            WHERE gateway_id = $1 RETURNING {MESSAGE_COLUMNS}""",
        gateway_id, status, delivered)


async def get_messages(conn: asyncpg.Connection, *, incident_id: int | None = None,
                       team_id: int | None = None, limit: int = 200) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""SELECT {MESSAGE_COLUMNS} FROM sms_messages
            WHERE ($1::bigint IS NULL OR incident_id = $1)
              AND ($2::bigint IS NULL OR team_id = $2)
            ORDER BY id DESC LIMIT $3""", incident_id, team_id, limit)


# --- replies ----------------------------------------------------------------------------

async def insert_inbound(conn: asyncpg.Connection, *, from_number: str, text: str,
                         gateway_id: str | None) -> int | None:
    """Log a received SMS; None when the gateway sent this one (its id) before."""
    return await conn.fetchval(
        """INSERT INTO sms_inbound (from_number, text, gateway_id, outcome)
           VALUES ($1, $2, $3, 'refused')
           ON CONFLICT (gateway_id) WHERE gateway_id IS NOT NULL DO NOTHING RETURNING id""",
        from_number, text, gateway_id)


async def set_inbound_outcome(conn: asyncpg.Connection, inbound_id: int, *, outcome: str,
                              team_id: int | None, incident_id: int | None,
                              action: str | None) -> None:
    await conn.execute(
        """UPDATE sms_inbound SET outcome = $2, team_id = $3, incident_id = $4, action = $5
           WHERE id = $1""", inbound_id, outcome, team_id, incident_id, action)


async def get_inbound(conn: asyncpg.Connection, limit: int = 100) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT id, from_number, text, team_id, incident_id, action, outcome, received_at
           FROM sms_inbound ORDER BY id DESC LIMIT $1""", limit)


# --- reports ----------------------------------------------------------------------------

async def get_sms_report(conn: asyncpg.Connection, start: datetime,
                         end: datetime) -> asyncpg.Record:
    """Assignments made in [start, end): how many were sent by SMS, how many the team
    acknowledged by SMS, and what that cost: the seconds from assignment to the SMS
    accepted by the gateway and to an SMS acknowledgement (median, P90), beside the
    app's acknowledgement times."""
    return await conn.fetchrow(
        """SELECT count(*) AS assignments,
                  count(*) FILTER (WHERE sms_sent_at IS NOT NULL) AS sms_sent,
                  count(*) FILTER (WHERE acknowledged_via = 'sms') AS acknowledged_by_sms,
                  count(*) FILTER (WHERE acknowledged_via = 'app') AS acknowledged_by_app,
                  count(*) FILTER (WHERE escalated_at IS NOT NULL) AS escalated,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
                      sms_sent_at - created_at)) AS sms_sent_p50_s,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
                      acknowledged_at - created_at)) FILTER (WHERE acknowledged_via = 'sms')
                      AS sms_ack_p50_s,
                  percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM
                      acknowledged_at - created_at)) FILTER (WHERE acknowledged_via = 'sms')
                      AS sms_ack_p90_s,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM
                      acknowledged_at - created_at)) FILTER (WHERE acknowledged_via = 'app')
                      AS app_ack_p50_s
           FROM assignments WHERE created_at >= $1 AND created_at < $2""", start, end)
