"""An assignment nobody acknowledges is withdrawn and the next nearest team goes."""

from dataclasses import replace

from dispatch.config import Settings
from tests.support import Api, running_service, wait_until


async def _wait_for_team(api: Api, incident_id: int, team_id: int) -> dict:
    async def detail_if_assigned() -> dict | None:
        detail = (await api.get(f"/api/v1/incidents/{incident_id}")).json()
        return detail if (detail["assignment"] or {}).get("team_id") == team_id else None
    return await wait_until(detail_if_assigned, what=f"team {team_id} on incident {incident_id}",
                            poll_s=0.1)


def _withdrawn(detail: dict) -> list[dict]:
    return [e["data"] for e in detail["events"] if e["name"] == "assignment.withdrawn"]


async def test_unacknowledged_assignment_moves_to_next_nearest(settings: Settings,
                                                               dsn: str) -> None:
    quick = replace(settings, ack_timeout_s=1)
    async with running_service(quick) as url, Api(url, dsn) as api:
        await api.login_all()
        silent = await api.team("SILENT", -4.0, 119.64)
        second = await api.team("SECOND", -4.01, 119.645)
        await api.team("THIRD", -4.05, 119.68)
        incident = (await api.incident(-4.0, 119.64, priority=1)).json()
        assert incident["assignment"]["team_id"] == silent["id"]
        detail = await _wait_for_team(api, incident["id"], second["id"])
        assert detail["status"] == "assigned"
        withdrawn = _withdrawn(detail)
        assert len(withdrawn) == 1
        assert withdrawn[0]["reason"] == "ack_timeout"
        assert withdrawn[0]["team_id"] == silent["id"]
        names = [e["name"] for e in detail["events"]]
        assert names.index("assignment.withdrawn") < len(names) - 1 - names[::-1].index(
            "assignment.created")
        teams = {t["code"]: t["status"] for t in (await api.get("/api/v1/teams")).json()["items"]}
        # The silent team is out until an operator puts it back; it is not sent again.
        assert teams == {"SILENT": "unreachable", "SECOND": "dispatched",
                         "THIRD": "available"}
        back = await api.post(f"/api/v1/teams/{silent['id']}/service", {"status": "available"})
        assert back.status_code == 200
        assert back.json()["status"] == "available"


async def test_acknowledged_assignment_stays(settings: Settings, dsn: str) -> None:
    quick = replace(settings, ack_timeout_s=1)
    async with running_service(quick) as url, Api(url, dsn) as api:
        await api.login_all()
        team = await api.team("QUICK", -4.0, 119.64)
        other = await api.team("OTHER", -4.01, 119.645)
        await api.device_token("QUICK")
        incident = (await api.incident(-4.0, 119.64)).json()
        assert incident["assignment"]["team_id"] == team["id"]
        assert (await api.step("QUICK", "acknowledge", incident["id"])).status_code == 200
        # A second incident, assigned later and never acknowledged: once the sweeper has
        # withdrawn it, the first assignment's ack timeout had passed too when the sweeper
        # looked for overdue assignments.
        control = (await api.incident(-4.01, 119.645)).json()
        assert control["assignment"]["team_id"] == other["id"]

        async def control_withdrawn() -> bool:
            detail = (await api.get(f"/api/v1/incidents/{control['id']}")).json()
            return any(w["reason"] == "ack_timeout" for w in _withdrawn(detail))
        await wait_until(control_withdrawn, what="the unacknowledged assignment withdrawn",
                         poll_s=0.1)
        detail = (await api.get(f"/api/v1/incidents/{incident['id']}")).json()
        assert detail["assignment"]["team_id"] == team["id"]
        assert detail["status"] == "acknowledged"
        assert _withdrawn(detail) == []
