"""The call log (issue 12): every call is recorded, with or without a number, and ends
with a disposition; a duplicate call joins its incident (timeline, the team's card);
a caller's history; the dispositions in the reports; who may read numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from tests.calls_support import check_problem, end_call, fingerprint, login_gateway, open_call
from tests.support import CITY, Api

NUMBER = "081234567890"
E164 = "+6281234567890"


async def test_withheld_number_is_recorded_and_becomes_an_incident(
        api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    await api.team("T1", *CITY)
    call = await open_call(api, None)
    assert call["caller_number"] is None and call["status"] == "open"
    incident = await api.incident(call_id=call["id"], caller_number=None)
    assert incident.status_code == 201, incident.text
    incident_id = incident.json()["id"]
    ended = await end_call(api, call["id"], "incident", incident_id)
    assert ended["incident_id"] == incident_id and ended["disposition"] == "incident"
    detail = (await api.get(f"/api/v1/incidents/{incident_id}")).json()
    assert detail["caller_number"] is None and detail["call_id"] == call["id"]
    assert detail["call_count"] == 1 and detail["status"] == "assigned"
    # A withheld number cannot be dropped into the call-back list; none asked for it.
    assert (await api.get(f"/api/v1/calls/{call['id']}")).json()["caller_number"] is None


async def test_three_calls_incident_prank_and_duplicate_agree_everywhere(
        api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    await api.team("T1", *CITY)
    phone = await api.device_token("T1")
    first = await open_call(api, NUMBER)
    incident_id = (await api.incident(call_id=first["id"])).json()["id"]
    await end_call(api, first["id"], "incident", incident_id)
    prank = await open_call(api, "085299998888")
    await end_call(api, prank["id"], "prank")
    second = await open_call(api, "081355554444")
    attached = await end_call(api, second["id"], "duplicate", incident_id)
    assert attached["incident_id"] == incident_id

    detail = (await api.get(f"/api/v1/incidents/{incident_id}")).json()
    assert detail["call_count"] == 2
    call_events = [e for e in detail["events"] if e["name"] == "call.ended"]
    assert [e["data"]["id"] for e in call_events] == [first["id"], second["id"]]
    assert call_events[-1]["data"]["disposition"] == "duplicate"
    updated = [e for e in detail["events"] if e["name"] == "incident.updated"]
    assert updated[-1]["data"]["call_count"] == 2
    card = await api.http.get("/api/v1/team/assignment",
                              headers={"Authorization": f"Bearer {phone}"})
    assert card.json()["assignment"]["incident"]["call_count"] == 2

    log = (await api.get("/api/v1/calls")).json()["items"]
    assert [(c["id"], c["disposition"], c["incident_id"]) for c in log] == [
        (second["id"], "duplicate", incident_id), (prank["id"], "prank", None),
        (first["id"], "incident", incident_id)]
    report = (await api.get("/api/v1/reports/calls", role="admin")).json()
    counts = {row["disposition"]: row["count"] for row in report["dispositions"]}
    assert counts["incident"] == counts["prank"] == counts["duplicate"] == 1
    assert counts["wrong_number"] == counts["silent"] == counts["test"] == 0
    assert report["total"] == 3


async def test_every_disposition_ends_a_call(api: Api, db: asyncpg.Connection) -> None:
    for disposition in ("info", "wrong_number", "prank", "silent", "dropped", "test", "other"):
        call = await open_call(api, NUMBER, role="operator")
        assert (await end_call(api, call["id"], disposition))["disposition"] == disposition
    log = (await api.get("/api/v1/calls?status=ended")).json()["items"]
    assert len(log) == 7 and all(c["status"] == "ended" for c in log)
    assert (await api.get("/api/v1/calls?status=open")).json()["items"] == []


async def test_caller_history_newest_first_within_90_days(
        api: Api, db: asyncpg.Connection) -> None:
    await api.team("T1", *CITY)
    old = await open_call(api, NUMBER, role="operator")
    await end_call(api, old["id"], "prank")
    await db.execute("UPDATE calls SET received_at = now() - interval '91 days' WHERE id = $1",
                     old["id"])
    info = await open_call(api, NUMBER, role="operator")
    await end_call(api, info["id"], "info")
    third = await open_call(api, NUMBER, role="operator")
    incident_id = (await api.incident(call_id=third["id"])).json()["id"]
    await open_call(api, "085299998888", role="operator")  # someone else
    for query in ("081234567890", "%2B6281234567890", "6281234567890"):
        history = (await api.get(f"/api/v1/calls?number={query}")).json()
        assert history["number"] == E164
        assert [(c["id"], c["disposition"], c["incident_id"]) for c in history["items"]] == [
            (third["id"], None, incident_id), (info["id"], "info", None)]
        assert [i["id"] for i in history["incidents"]] == [incident_id]
        assert history["block"] == {"blocked": False}


async def test_numbers_are_for_operators_and_admins_only(
        api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    call = await open_call(api, NUMBER)
    for role in ("operator", "admin"):
        assert (await api.get(f"/api/v1/calls?number={NUMBER}", role=role)).status_code == 200
        assert (await api.get(f"/api/v1/calls/{call['id']}", role=role)).status_code == 200
    for role in ("health_office", "gateway"):
        for path in (f"/api/v1/calls?number={NUMBER}", "/api/v1/calls",
                     f"/api/v1/calls/{call['id']}"):
            response = await api.get(path, role=role)
            check_problem(response, 403)
            assert "1234567890" not in response.text


async def test_refused_endings_change_nothing(api: Api, db: asyncpg.Connection) -> None:
    await api.team("T1", *CITY)
    live = (await api.incident()).json()["id"]
    cancelled = (await api.incident()).json()["id"]
    assert (await api.post(f"/api/v1/incidents/{cancelled}/cancel",
                           {"reason": "test"})).status_code == 200
    call = await open_call(api, NUMBER, role="operator")
    done = await open_call(api, NUMBER, role="operator")
    await end_call(api, done["id"], "info")
    before = await fingerprint(db)
    end = f"/api/v1/calls/{call['id']}/end"
    check_problem(await api.post(end, {"disposition": "duplicate"}), 422, "incident_id")
    check_problem(await api.post(end, {"disposition": "prank", "incident_id": live}), 422,
                  "incident_id")
    check_problem(await api.post(end, {"disposition": "duplicate", "incident_id": 999999}),
                  422, "incident_id")
    problem = check_problem(await api.post(end, {"disposition": "duplicate",
                                                 "incident_id": cancelled}), 409)
    assert "dibatalkan" in problem["detail"]
    check_problem(await api.post(end, {"disposition": "hoax"}), 422, "disposition")
    check_problem(await api.post(f"/api/v1/calls/{done['id']}/end",
                                 {"disposition": "duplicate", "incident_id": live}), 409)
    check_problem(await api.post("/api/v1/calls/999999/end", {"disposition": "info"}), 404)
    check_problem(await api.post("/api/v1/calls", {}), 422, "caller_number")
    check_problem(await api.post("/api/v1/calls", {"caller_number": "call me"}), 422,
                  "caller_number")
    for query in ("number=abc", "number=", "status=closed", "hours=0", "hours=x"):
        check_problem(await api.get(f"/api/v1/calls?{query}"), 422)
    check_problem(await api.get("/api/v1/calls/abc"), 404)
    check_problem(await api.get("/api/v1/calls/999999"), 404)
    assert await fingerprint(db) == before


async def test_call_log_reaches_back_and_keeps_open_calls(
        api: Api, db: asyncpg.Connection) -> None:
    stale = await open_call(api, NUMBER, role="operator")
    ended = await open_call(api, NUMBER, role="operator")
    await end_call(api, ended["id"], "info")
    old = datetime.now(UTC) - timedelta(hours=30)
    await db.execute("UPDATE calls SET received_at = $1", old)
    listed = [c["id"] for c in (await api.get("/api/v1/calls")).json()["items"]]
    assert listed == [stale["id"]]  # still open, however old
    listed = [c["id"] for c in (await api.get("/api/v1/calls?hours=48")).json()["items"]]
    assert sorted(listed) == sorted([stale["id"], ended["id"]])
