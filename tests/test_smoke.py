"""The service answers and the nearest team goes."""

from tests.support import Api


async def test_health_needs_no_token(api: Api) -> None:
    response = await api.get("/api/v1/health", role=None)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_incident_gets_nearest_team(api: Api) -> None:
    near = await api.team("NEAR", -4.001, 119.641)
    await api.team("FAR", -4.05, 119.68)
    response = await api.incident(-4.0, 119.64, priority=1)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "assigned"
    assert body["assignment"]["team_id"] == near["id"]


async def test_answers_say_how_long_the_service_took(api: Api) -> None:
    """Server-Timing (`app;dur=` milliseconds) and X-Request-Id on every answer: a
    browser's developer tools or a load generator tell the service's time from the
    network's, and a log line is found by its request id."""
    response = await api.incident(-4.0, 119.64)
    name, _, duration = response.headers["server-timing"].partition(";dur=")
    assert name == "app" and float(duration) > 0
    assert len(response.headers["x-request-id"]) == 16
