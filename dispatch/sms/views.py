"""How SMS are shown to operators and the health office."""

from __future__ import annotations

import asyncpg

from dispatch.sms.texts import get_short_code


def message_view(row: asyncpg.Record) -> dict:
    """An outbox message (the number is the team's own, staff only)."""
    return {"id": row["id"], "kind": row["kind"], "team_id": row["team_id"],
            "incident_id": row["incident_id"], "assignment_id": row["assignment_id"],
            "to": row["to_number"], "text": row["body"], "length": len(row["body"]),
            "attempts": row["attempts"], "created_at": row["created_at"],
            "sent_at": row["sent_at"], "failed_at": row["failed_at"],
            "delivered_at": row["delivered_at"], "delivery_status": row["delivery_status"],
            "last_error": row["last_error"],
            "short_code": get_short_code(row["incident_id"]) if row["incident_id"] else None}


def inbound_view(row: asyncpg.Record) -> dict:
    return {"id": row["id"], "from": row["from_number"], "text": row["text"],
            "team_id": row["team_id"], "incident_id": row["incident_id"],
            "action": row["action"], "outcome": row["outcome"],
            "received_at": row["received_at"]}


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def report_view(row: asyncpg.Record) -> dict:
    """GET /api/v1/reports/sms: assignments reached by SMS and the time it cost."""
    return {"assignments": row["assignments"], "sms_sent": row["sms_sent"],
            "acknowledged_by_sms": row["acknowledged_by_sms"],
            "acknowledged_by_app": row["acknowledged_by_app"],
            "escalated": row["escalated"],
            "sms_sent_p50_s": _seconds(row["sms_sent_p50_s"]),
            "sms_ack_p50_s": _seconds(row["sms_ack_p50_s"]),
            "sms_ack_p90_s": _seconds(row["sms_ack_p90_s"]),
            "app_ack_p50_s": _seconds(row["app_ack_p50_s"])}
