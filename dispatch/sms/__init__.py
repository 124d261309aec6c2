"""SMS to teams (issue 13, docs/sms.md): assignments, withdrawals and cancellations by
SMS to a team whose phone has no live socket or has not acknowledged in time, steps
by reply digit, the escalation of an assignment nobody answered. URLs:
/api/v1/sms/*, /api/v1/teams/{id}/sms-numbers, /api/v1/reports/sms."""
