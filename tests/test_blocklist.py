"""The block list (issue 12): admins block a number with a reason, for 24 h unless told
otherwise, with an audit trail; the gateway looks numbers up; a blocked caller is still
logged; a number that may be a real emergency is never blocked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.calls_support import check_problem, end_call, fingerprint, login_gateway, open_call
from tests.support import CITY, Api, wait_until

PRANK = "085299998888"
E164 = "+6285299998888"


def _close_to(value: str, expected: datetime, slack_s: float = 120) -> bool:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return abs((moment - expected).total_seconds()) < slack_s


async def test_block_lookup_and_blocked_caller_still_logged(
        api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    response = await api.post("/api/v1/blocklist", {"number": PRANK, "reason": "iseng 5x"},
                              role="admin")
    assert response.status_code == 201, response.text
    entry = response.json()
    assert entry["number"] == E164 and entry["created_by"] == "user:admin"
    assert _close_to(entry["expires_at"], datetime.now(UTC) + timedelta(hours=24))

    for role in ("gateway", "operator", "admin"):
        for written in (PRANK, E164, "6285299998888"):
            found = await api.get(f"/api/v1/blocklist/{written}", role=role)
            assert found.status_code == 200, found.text
            assert found.json() == {"blocked": True, "until": entry["expires_at"],
                                    "reason": "iseng 5x"}
    other = await api.get("/api/v1/blocklist/081234567890", role="gateway")
    assert other.json() == {"blocked": False}

    call = await open_call(api, PRANK)
    assert call["blocked"] is True and call["status"] == "open"
    await end_call(api, call["id"], "prank", role="gateway")
    history = (await api.get(f"/api/v1/calls?number={PRANK}")).json()
    assert history["block"]["blocked"] is True and history["block"]["reason"] == "iseng 5x"
    assert [(c["id"], c["blocked"], c["disposition"]) for c in history["items"]] == [
        (call["id"], True, "prank")]
    assert (await open_call(api, "081234567890"))["blocked"] is False
    events = await db.fetch("SELECT name, actor, data FROM events WHERE name LIKE 'blocklist.%'")
    assert [(e["name"], e["actor"], e["data"]["number"]) for e in events] == [
        ("blocklist.added", "user:admin", E164)]


async def test_expiry_and_lifting_with_audit(api: Api, db: asyncpg.Connection) -> None:
    soon = datetime.now(UTC) + timedelta(seconds=2)
    response = await api.post("/api/v1/blocklist", {
        "number": PRANK, "reason": "uji", "expires_at": soon.isoformat()}, role="admin")
    assert response.status_code == 201, response.text

    async def unblocked() -> bool:
        answer = await api.get(f"/api/v1/blocklist/{PRANK}")
        return answer.json() == {"blocked": False}
    await wait_until(unblocked, what="the block to expire")
    assert (await api.get("/api/v1/blocklist", role="admin")).json()["items"] == []

    assert (await api.post("/api/v1/blocklist", {"number": PRANK, "reason": "lagi"},
                           role="admin")).status_code == 201
    assert (await api.get(f"/api/v1/blocklist/{PRANK}")).json()["blocked"] is True
    lifted = await api.call("DELETE", f"/api/v1/blocklist/{E164}", role="admin")
    assert lifted.status_code == 204, lifted.text
    assert (await api.get(f"/api/v1/blocklist/{PRANK}")).json() == {"blocked": False}
    check_problem(await api.call("DELETE", f"/api/v1/blocklist/{PRANK}", role="admin"), 404)

    audit = (await api.get("/api/v1/blocklist?all=true", role="admin")).json()["items"]
    assert [(a["reason"], a["created_by"], a["lifted_by"]) for a in audit] == [
        ("lagi", "user:admin", "user:admin"), ("uji", "user:admin", None)]
    assert audit[0]["lifted_at"] is not None and audit[1]["lifted_at"] is None
    names = [r["name"] for r in await db.fetch(
        "SELECT name FROM events WHERE name LIKE 'blocklist.%' ORDER BY seq")]
    assert names == ["blocklist.added", "blocklist.added", "blocklist.lifted"]


async def test_never_block_a_number_that_may_be_an_emergency(
        api: Api, db: asyncpg.Connection) -> None:
    await api.team("T1", *CITY)
    incident = (await api.incident(caller_number=PRANK)).json()["id"]
    before = await fingerprint(db)
    problem = check_problem(await api.post("/api/v1/blocklist", {
        "number": PRANK, "reason": "iseng"}, role="admin"), 409)
    assert "insiden aktif" in problem["detail"] and "active incident" in problem["detail"]
    assert await fingerprint(db) == before

    assert (await api.post(f"/api/v1/incidents/{incident}/cancel",
                           {"reason": "batal"})).status_code == 200
    call = await open_call(api, PRANK, role="operator")
    duplicate_of = (await api.incident(caller_number="081234567890")).json()["id"]
    await end_call(api, call["id"], "duplicate", duplicate_of)
    # The incident its call joined is active.
    before = await fingerprint(db)
    problem = check_problem(await api.post("/api/v1/blocklist", {
        "number": PRANK, "reason": "iseng"}, role="admin"), 409)
    assert "active incident" in problem["detail"]
    assert await fingerprint(db) == before
    assert (await api.post(f"/api/v1/incidents/{duplicate_of}/cancel",
                           {"reason": "selesai"})).status_code == 200
    # Nothing active any more, but that call, within the hour, joined an incident.
    before = await fingerprint(db)
    problem = check_problem(await api.post("/api/v1/blocklist", {
        "number": PRANK, "reason": "iseng"}, role="admin"), 409)
    assert "became an incident" in problem["detail"]
    assert await fingerprint(db) == before

    await db.execute("UPDATE calls SET received_at = now() - interval '61 minutes'")
    response = await api.post("/api/v1/blocklist", {"number": PRANK, "reason": "iseng"},
                              role="admin")
    assert response.status_code == 201, response.text


async def test_roles_and_bad_input_change_nothing(api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    assert (await api.post("/api/v1/blocklist", {"number": PRANK, "reason": "iseng"},
                           role="admin")).status_code == 201
    before = await fingerprint(db)
    body = {"number": "081234567890", "reason": "iseng"}
    for role in ("operator", "gateway", "health_office"):
        check_problem(await api.post("/api/v1/blocklist", body, role=role), 403)
        check_problem(await api.call("DELETE", f"/api/v1/blocklist/{PRANK}", role=role), 403)
    for role in ("operator", "gateway", "health_office"):
        check_problem(await api.get("/api/v1/blocklist", role=role), 403)
    check_problem(await api.get(f"/api/v1/blocklist/{PRANK}", role="health_office"), 403)
    check_problem(await api.get(f"/api/v1/blocklist/{PRANK}", role=None), 401)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    far = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    for bad, field in (({"number": "call me", "reason": "x"}, "number"),
                       ({"number": None, "reason": "x"}, "number"),
                       ({"number": PRANK, "reason": ""}, "reason"),
                       ({"number": PRANK}, "reason"),
                       ({"number": PRANK, "reason": "x", "expires_at": past}, "expires_at"),
                       ({"number": PRANK, "reason": "x", "expires_at": far}, "expires_at"),
                       ({"number": PRANK, "reason": "x", "expires_at": "besok"},
                        "expires_at")):
        check_problem(await api.post("/api/v1/blocklist", bad, role="admin"), 422, field)
    for path in ("/api/v1/blocklist/abc", "/api/v1/blocklist/12", "/api/v1/blocklist/%00"):
        check_problem(await api.get(path, role="gateway"), 404)
        check_problem(await api.call("DELETE", path, role="admin"), 404)
    for query in ("all=yes", "limit=0", "limit=x"):
        check_problem(await api.get(f"/api/v1/blocklist?{query}", role="admin"), 422)
    assert await fingerprint(db) == before


@pytest.mark.settings(auto_block_pranks=3)
async def test_repeated_pranks_block_a_number_unless_it_may_be_an_emergency(
        api: Api, db: asyncpg.Connection) -> None:
    for attempt in range(3):
        assert (await api.get(f"/api/v1/blocklist/{PRANK}")).json()["blocked"] is False, \
            attempt
        await end_call(api, (await open_call(api, PRANK, role="operator"))["id"], "prank")
    found = (await api.get(f"/api/v1/blocklist/{PRANK}")).json()
    assert found["blocked"] is True and "3 prank calls in 24 h" in found["reason"]
    audit = (await api.get("/api/v1/blocklist", role="admin")).json()["items"]
    assert [a["created_by"] for a in audit] == ["system:auto-block"]
    assert _close_to(audit[0]["expires_at"], datetime.now(UTC) + timedelta(hours=24))
    # A fourth prank adds no second entry.
    await end_call(api, (await open_call(api, PRANK, role="operator"))["id"], "prank")
    assert len((await api.get("/api/v1/blocklist?all=true", role="admin")).json()["items"]) \
        == 1

    # A number with an active incident is never blocked automatically.
    other = "081355554444"
    await api.incident(caller_number=other)
    for _ in range(4):
        await end_call(api, (await open_call(api, other, role="operator"))["id"], "prank")
    assert (await api.get(f"/api/v1/blocklist/{other}")).json() == {"blocked": False}
