"""An assignment nobody acknowledges is withdrawn and the next nearest team goes."""

import asyncio
from dataclasses import replace

from dispatch.config import Settings
from tests.support import Api, running_service


async def _wait_for_team(api: Api, incident_id: int, team_id: int, seconds: float) -> dict:
    for _ in range(int(seconds / 0.1)):
        detail = (await api.get(f"/api/v1/incidents/{incident_id}")).json()
        if (detail["assignment"] or {}).get("team_id") == team_id:
            return detail
        await asyncio.sleep(0.1)
    raise AssertionError(f"team {team_id} never got incident {incident_id}: {detail}")


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
        detail = await _wait_for_team(api, incident["id"], second["id"], seconds=10)
        assert detail["status"] == "assigned"
        withdrawn = [e for e in detail["events"] if e["name"] == "assignment.withdrawn"]
        assert len(withdrawn) == 1
        assert withdrawn[0]["data"]["reason"] == "ack_timeout"
        assert withdrawn[0]["data"]["team_id"] == silent["id"]
        names = [e["name"] for e in detail["events"]]
        assert names.index("assignment.withdrawn") < len(names) - 1 - names[::-1].index(
            "assignment.created")
        teams = {t["code"]: t["status"] for t in (await api.get("/api/v1/teams")).json()["items"]}
        # The silent team is out until an operator puts it back; it is not sent again.
        assert teams == {"SILENT": "out_of_service", "SECOND": "dispatched",
                         "THIRD": "available"}
        back = await api.post(f"/api/v1/teams/{silent['id']}/service", {"status": "available"})
        assert back.status_code == 200
        assert back.json()["status"] == "available"


async def test_acknowledged_assignment_stays(settings: Settings, dsn: str) -> None:
    quick = replace(settings, ack_timeout_s=1)
    async with running_service(quick) as url, Api(url, dsn) as api:
        await api.login_all()
        team = await api.team("QUICK", -4.0, 119.64)
        await api.team("OTHER", -4.01, 119.645)
        await api.device_token("QUICK")
        incident = (await api.incident(-4.0, 119.64)).json()
        assert (await api.step("QUICK", "acknowledge", incident["id"])).status_code == 200
        await asyncio.sleep(2)
        detail = (await api.get(f"/api/v1/incidents/{incident['id']}")).json()
        assert detail["assignment"]["team_id"] == team["id"]
        assert detail["status"] == "acknowledged"
