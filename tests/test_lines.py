"""Line failover against real SIP peers: sipp answers the OPTIONS probes on loopback,
and is killed and restarted like a trunk that dies and comes back.

Probes are fast here (interval 0.2 s, timeout 0.3 s, fail_after 2, recover_after 2):
the promise is that a dead line is failed over within
fail_after x interval_s + timeout_s + 1 s = 1.7 s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import pytest

from dispatch.config import Settings
from realtime.client import EventClient
from tests.lines_support import (
    FAST,
    WebhookReceiver,
    create_line,
    detection_bound_s,
    get_lines,
    hotline,
    next_event,
    sip_line,
    wait_states,
    wait_until,
)
from tests.sip_peer import SippPeer, free_udp_port
from tests.support import WAIT_S, Api, ws_url

BOUND_S = detection_bound_s(FAST)
FLAKY, STEADY = "/flaky", "/sms"


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    """The outside systems of failover notifications: one that fails twice first."""
    async with WebhookReceiver({FLAKY: [500, 500, 200]}) as server:
        yield server


@pytest.fixture
def settings(dsn: str, receiver: WebhookReceiver) -> Settings:
    return Settings(database_url=dsn, secret_key="test", sweep_interval_s=0.2, pool_max=20,
                    line_poll_s=0.2, webhook_backoff_s=0.1, webhook_timeout_s=2.0,
                    failover_webhooks=(receiver.url(STEADY), receiver.url(FLAKY)))


@pytest.fixture
async def peers() -> AsyncIterator[tuple[SippPeer, SippPeer]]:
    """sipp answering 200 for the primary and for the backup."""
    async with SippPeer() as primary, SippPeer() as backup:
        yield primary, backup


async def make_pair(api: Api, primary: SippPeer, backup: SippPeer) -> tuple[dict, dict]:
    """The 112 line probed at `primary`, its backup at `backup`, both up."""
    first = await create_line(api, sip_line("112", 0, primary.port))
    second = await create_line(api, sip_line("0421-21112", 1, backup.port))
    await wait_states(api, {first["id"]: "up", second["id"]: "up"})
    return first, second


async def test_both_lines_up_and_the_hotline_names_the_primary(
        api: Api, peers: tuple[SippPeer, SippPeer]) -> None:
    first, second = await make_pair(api, *peers)
    lines = await get_lines(api)
    assert [(line["number"], line["state"], line["active"]) for line in lines["items"]] == [
        ("112", "up", True), ("0421-21112", "up", False)]
    assert lines["active_line_id"] == first["id"] and lines["critical"] is False
    assert all(line["last_result"] == "200 OK" for line in lines["items"])
    answer = await hotline(api)
    assert (answer["number"], answer["line_id"], answer["critical"]) == ("112", first["id"], False)
    assert answer["since"]
    history = (await api.get("/api/v1/lines/events")).json()["items"]
    ups = [item for item in history if item["state"] == "up"]
    assert {item["line_id"] for item in ups} == {first["id"], second["id"]}
    assert all("2 successes in a row" in item["reason"] for item in ups)


async def test_dead_primary_fails_over_in_time_drops_its_calls_and_fails_back(
        api: Api, db: asyncpg.Connection, peers: tuple[SippPeer, SippPeer]) -> None:
    primary, backup = peers
    first, second = await make_pair(api, primary, backup)
    call = (await api.post("/api/v1/calls", {"caller_number": "0812-4400-1122",
                                             "line_id": first["id"]})).json()
    other = (await api.post("/api/v1/calls", {"caller_number": "081355500011",
                                              "line_id": second["id"]})).json()
    async with EventClient(ws_url(api.base_url), api.tokens["operator"]) as desk:
        killed = time.monotonic()
        primary.kill()
        change = await next_event(desk, "line.state", BOUND_S + 2,
                                  lambda data: data["active_line_id"] == second["id"])
        detected = time.monotonic() - killed
        assert detected <= BOUND_S, f"failover took {detected:.2f} s, bound {BOUND_S} s"
        data = change["data"]
        assert (data["line_id"], data["state"], data["previous_state"]) == (first["id"], "down",
                                                                            "up")
        assert data["active_number"] == "0421-21112" and data["critical"] is False
        assert "2 failures in a row" in data["reason"]
        created = await next_event(desk, "callback.created", WAIT_S)
    assert (await hotline(api))["number"] == "0421-21112"
    assert created["data"]["call_id"] == call["id"]
    callbacks = (await api.get("/api/v1/callbacks")).json()["items"]
    assert [(c["call_id"], c["caller_number"], c["line_id"], c["done"]) for c in callbacks] == [
        (call["id"], "+6281244001122", first["id"], False)]
    row = await db.fetchrow("SELECT status, disposition FROM calls WHERE id = $1", call["id"])
    assert (row["status"], row["disposition"]) == ("ended", "dropped")
    assert await db.fetchval("SELECT status FROM calls WHERE id = $1", other["id"]) == "open"

    done = await api.post(f"/api/v1/callbacks/{callbacks[0]['id']}/done")
    assert done.status_code == 200 and done.json()["done"] is True
    again = await api.post(f"/api/v1/callbacks/{callbacks[0]['id']}/done")
    assert again.status_code == 200 and again.json()["done_at"] == done.json()["done_at"]
    assert (await api.post("/api/v1/callbacks/999999/done")).status_code == 404

    async with EventClient(ws_url(api.base_url), api.tokens["operator"]) as desk:
        await primary.start()
        back = await next_event(desk, "line.state", WAIT_S,
                                lambda data: data["active_line_id"] == first["id"])
    assert back["data"]["state"] == "up" and "2 successes in a row" in back["data"]["reason"]
    assert (await hotline(api))["number"] == "112"
    history = (await api.get("/api/v1/lines/events", params={"limit": 3})).json()["items"]
    assert [(h["line_id"], h["state"], h["active_line_id"]) for h in history[:2]] == [
        (first["id"], "up", first["id"]), (first["id"], "down", second["id"])]


async def test_503_and_silence_both_fail_and_all_down_is_critical_on_the_primary(
        api: Api) -> None:
    async with SippPeer(scenario="options_503.xml") as refusing:
        first = await create_line(api, sip_line("112", 0, refusing.port))
        second = await create_line(api, sip_line("0421-21112", 1, free_udp_port()))
        lines = await wait_states(api, {first["id"]: "down", second["id"]: "down"})
    assert lines["critical"] is True and lines["active_line_id"] == first["id"]
    results = {line["id"]: line["last_result"] for line in lines["items"]}
    assert results[first["id"]] == "503 Service Unavailable"
    assert results[second["id"]].startswith("unreachable")
    answer = await hotline(api)
    assert (answer["number"], answer["critical"]) == ("112", True)
    history = (await api.get("/api/v1/lines/events")).json()["items"]
    assert history[0]["critical"] is True and history[0]["active_line_id"] == first["id"]


async def test_a_peer_that_never_answers_fails_after_its_timeout(api: Api) -> None:
    """A socket that reads every OPTIONS and answers none: silence is a failure."""
    loop = asyncio.get_running_loop()
    heard: list[bytes] = []
    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Sink(heard), local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        line = await create_line(api, sip_line("112", 0, port))
        lines = await wait_states(api, {line["id"]: "down"})
    finally:
        transport.close()
    assert lines["items"][0]["last_result"] == "no answer within 0.3 s"
    assert heard and all(b"OPTIONS sip:127.0.0.1" in datagram for datagram in heard)


async def settle_deliveries(db: asyncpg.Connection) -> None:
    """Wait until no notification is waiting for delivery."""
    async def settled() -> bool:
        return not await db.fetchval("SELECT count(*) FROM webhook_deliveries"
                                     " WHERE delivered_at IS NULL AND failed_at IS NULL")
    await wait_until(settled, what="notifications delivered")


class _Sink(asyncio.DatagramProtocol):
    def __init__(self, heard: list[bytes]) -> None:
        self.heard = heard

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.heard.append(data)


async def beat_until_up(api: Api, line_id: int) -> dict:
    """Post a heartbeat every 0.15 s, as the gateway does, until the line is up;
    GET /api/v1/lines then."""
    async def beat_and_look() -> dict | None:
        assert (await api.post(f"/api/v1/lines/{line_id}/heartbeat")).status_code == 204
        lines = await get_lines(api)
        up = any(line["id"] == line_id and line["state"] == "up" for line in lines["items"])
        return lines if up else None
    return await wait_until(beat_and_look, what=f"line {line_id} up", poll_s=0.15)


async def test_heartbeat_line_goes_down_in_silence_and_up_when_heartbeats_resume(
        api: Api, db: asyncpg.Connection) -> None:
    line = await create_line(api, {"number": "0421-22112", "label": "Gateway", "priority": 0,
                                   "probe": {"kind": "heartbeat", "timeout_s": 0.6}})
    assert line["state"] == "unknown"
    await beat_until_up(api, line["id"])
    await wait_states(api, {line["id"]: "down"})  # the heartbeats stopped
    # Down only once the silence passed timeout_s, by the database's clock (the one the
    # monitor goes by), and at the first look that found it stale.
    silence = await db.fetchval("SELECT extract(epoch FROM state_changed_at - heartbeat_at)"
                                " FROM lines WHERE id = $1", line["id"])
    assert silence >= 0.6, silence
    history = (await api.get("/api/v1/lines/events")).json()["items"]
    assert (history[0]["state"], history[0]["reason"]) == (
        "down", "heartbeat: no heartbeat for over 0.6 s (1 failure in a row)")
    assert (await hotline(api))["critical"] is True
    lines = await beat_until_up(api, line["id"])
    assert lines["critical"] is False and lines["items"][0]["heartbeat_at"]


async def test_heartbeat_line_without_a_first_heartbeat_goes_down(api: Api) -> None:
    line = await create_line(api, {"number": "0421-22112", "label": "Gateway", "priority": 0,
                                   "probe": {"kind": "heartbeat", "timeout_s": 0.5}})
    await wait_states(api, {line["id"]: "down"})
    history = (await api.get("/api/v1/lines/events")).json()["items"]
    assert history[0]["reason"].startswith("heartbeat: no heartbeat for over 0.5 s")


async def test_heartbeat_checks_the_line_and_its_probe(api: Api) -> None:
    sip = await create_line(api, sip_line("112", 0, free_udp_port(), interval_s=5.0))
    assert (await api.post(f"/api/v1/lines/{sip['id']}/heartbeat")).status_code == 409
    assert (await api.post("/api/v1/lines/999999/heartbeat")).status_code == 404
    assert (await api.post(f"/api/v1/lines/{sip['id']}/heartbeat",
                           role="health_office")).status_code == 403


async def test_failover_notifications_reach_the_webhooks_also_after_two_failures(
        api: Api, db: asyncpg.Connection, peers: tuple[SippPeer, SippPeer],
        receiver: WebhookReceiver) -> None:
    primary, backup = peers
    first, second = await make_pair(api, primary, backup)
    # The first line's creation chose the active line: that was notified too.
    await settle_deliveries(db)
    receiver.received.clear()
    await db.execute("DELETE FROM webhook_deliveries")
    primary.kill()

    async def flaky_delivered() -> bool:
        return any(item.answered == 200 for item in receiver.at(FLAKY))
    await wait_until(flaky_delivered, what="delivery after two failures")
    await settle_deliveries(db)  # the 200 answered; its row is marked just after
    steady, flaky = receiver.at(STEADY), receiver.at(FLAKY)
    assert [item.answered for item in steady] == [200]
    assert [item.answered for item in flaky] == [500, 500, 200]
    body = steady[0].body
    assert (body["event"], body["number"], body["line_id"]) == ("line.failover", "0421-21112",
                                                               second["id"])
    assert (body["previous_number"], body["critical"]) == ("112", False)
    assert all(item.body == body for item in flaky)
    keys = {item.headers["idempotency-key"] for item in flaky}
    assert len(keys) == 1 and keys != {steady[0].headers["idempotency-key"]}
    rows = await db.fetch("SELECT url, attempts, delivered_at, last_error"
                          " FROM webhook_deliveries ORDER BY id")
    assert [(row["url"].rsplit("/", 1)[1], row["attempts"], row["last_error"])
            for row in rows] == [("sms", 1, None), ("flaky", 3, "HTTP 500")]
    assert all(row["delivered_at"] for row in rows)


async def test_admin_override_forces_a_line_and_is_shown_as_such(
        api: Api, db: asyncpg.Connection, peers: tuple[SippPeer, SippPeer],
        receiver: WebhookReceiver) -> None:
    first, second = await make_pair(api, *peers)
    await settle_deliveries(db)
    receiver.received.clear()
    async with EventClient(ws_url(api.base_url), api.tokens["operator"]) as desk:
        forced = await api.post("/api/v1/lines/override",
                                {"line_id": second["id"], "reason": "maintenance of the PBX"},
                                role="admin")
        assert forced.status_code == 200, forced.text
        event = await next_event(desk, "line.state", WAIT_S)
    assert forced.json()["override"]["line_id"] == second["id"]
    assert event["data"]["override"] is True and event["data"]["active_line_id"] == second["id"]
    assert "maintenance of the PBX" in event["data"]["reason"]
    answer = await hotline(api)
    assert (answer["number"], answer["override"]) == ("0421-21112", True)
    lines = await get_lines(api)
    assert [line["override"] for line in lines["items"]] == [False, True]
    # The monitor, probing on, does not undo it: once it has had its chances, all is
    # as the override left it, and nothing was recorded since.
    await monitor_went_round(api)
    assert (await hotline(api))["line_id"] == second["id"]
    lines = await get_lines(api)
    assert lines["active_line_id"] == second["id"]
    assert [line["override"] for line in lines["items"]] == [False, True]
    history = (await api.get("/api/v1/lines/events")).json()["items"]
    assert history[0]["reason"].endswith("maintenance of the PBX")
    assert (await api.post("/api/v1/lines/override", {"line_id": first["id"], "reason": "x"},
                           role="operator")).status_code == 403
    bad = await api.post("/api/v1/lines/override", {"line_id": 999999, "reason": "x"},
                         role="admin")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "line_id"
    cleared = await api.post("/api/v1/lines/override", {"line_id": None, "reason": "done"},
                             role="admin")
    assert cleared.json()["override"] is None and cleared.json()["active_line_id"] == first["id"]
    assert (await hotline(api))["override"] is False
    await wait_until(lambda: _delivered(receiver, 2), what="override notifications")


async def _monitor_marks(api: Api) -> tuple[str, dict[int, str]]:
    """The line monitor's leader's last beat, and when each line was last probed."""
    monitor = await api.get("/api/v1/lines/monitor")
    assert monitor.status_code == 200, monitor.text
    lines = await get_lines(api)
    return (monitor.json()["leader"]["beat_at"],
            {line["id"]: line["checked_at"] for line in lines["items"]})


async def monitor_went_round(api: Api) -> None:
    """Wait until the line monitor has, since now, recorded a new probe result on every
    line and gone through a whole round of its leader's loop: two more beats, so the
    round between them (choosing the active line again) started and ended after now."""
    beat_at, checked_at = await _monitor_marks(api)
    beats = [beat_at]

    async def went_round() -> bool:
        beat, checked = await _monitor_marks(api)
        if beat != beats[-1]:
            beats.append(beat)
        return len(beats) >= 3 and all(checked[key] != at for key, at in checked_at.items())
    await wait_until(went_round, what="a round of the line monitor")


async def _delivered(receiver: WebhookReceiver, count: int) -> bool:
    return len(receiver.at(STEADY)) >= count


async def test_lines_are_validated_and_unique(api: Api) -> None:
    assert (await api.get("/api/v1/hotline", role=None)).status_code == 404
    bad = await api.post("/api/v1/lines", {"number": "112", "label": "x", "priority": 0,
                                           "probe": {"kind": "sip_options", "port": 0}},
                         role="admin")
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"probe.sip_options.host",
                                                          "probe.sip_options.port"}
    first = await create_line(api, {"number": "112", "label": "EKSIS", "priority": 0})
    assert first["state"] == "up" and first["active"] is True  # not monitored: taken as up
    again = await api.post("/api/v1/lines", {"number": "112", "label": "y", "priority": 1},
                           role="admin")
    assert again.status_code == 409
    assert (await api.get("/api/v1/lines/events", params={"limit": "0"})).status_code == 422
    assert (await api.get("/api/v1/callbacks", params={"done": "maybe"})).status_code == 422


async def test_demo_lines_come_up_unmonitored(api: Api, dsn: str) -> None:
    """The demo writes its lines straight to the database; the monitor takes them up."""
    from db.pool import connect
    from dispatch.demo import do_load_demo
    conn = await connect(dsn)
    try:
        async with conn.transaction():
            await do_load_demo(conn, "Asia/Makassar", force=True)
    finally:
        await conn.close()
    lines = await wait_until(lambda: _all_up(api), what="demo lines up")
    assert [line["number"] for line in lines["items"]][0] == "112"
    assert (await hotline(api))["number"] == "112"


async def _all_up(api: Api) -> dict | None:
    lines = await get_lines(api)
    ok = lines["items"] and all(line["state"] == "up" for line in lines["items"])
    return lines if ok and lines["active_line_id"] else None
