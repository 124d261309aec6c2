"""Incidents: logging them, allocating the nearest free team, the queue, ack
timeouts, reassignment and cancellation. URLs: /api/v1/incidents/*."""
