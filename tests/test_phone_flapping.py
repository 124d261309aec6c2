"""A team's phone behind a connection that keeps dropping: the real team page in
Chromium talks to the service through a TCP proxy the test cuts and restores while
the team taps through its steps, with cuts placed in the middle of a tap (the step
stored, its answer lost; the request on its way), while steps wait on the phone, and
while the socket resumes. A second assignment arrives while the phone is cut off.

At the end the phone shows what the service holds, every step is stored once and in
order, each assignment reached the phone exactly once (after dedup by seq), no team
was ever on two incidents, and nothing answered a 5xx but 503 (nor crashed unseen).

Two narrower cuts besides: the one connection a step goes out on falls silent for good
while the live socket lives on, and a step's body is cut off halfway."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import asyncpg
import pytest
import structlog
from playwright.async_api import Browser, BrowserContext, Page, Response, expect

from tests.browser_support import Watch, phone_page
from tests.flaky_proxy import (
    BLACKHOLE,
    FREEZE,
    REFUSE,
    FlakyProxy,
    answer_to,
    request_sent,
    websocket_hello,
    websocket_welcome,
)
from tests.support import WAIT_S, Api, wait_until

CODE = "FLP1"
STEP = b"POST /api/v1/team/status"
STEPS = ["acknowledge", "en_route", "on_scene", "transporting", "at_hospital", "clear"]
# The step the phone offers in each incident status (dispatch/states.py).
NEXT = {"assigned": "acknowledge", "acknowledged": "en_route", "en_route": "on_scene",
        "on_scene": "transporting", "transporting": "at_hospital", "at_hospital": "clear"}
expect.set_options(timeout=WAIT_S * 1000)

# Counts what the page received on its sockets (the frames of a batch frame each on its
# own, as the page reads them) and how often it rang for an assignment.
RECORDER = """
window.__frames = [];
window.__alarms = 0;
const NativeWebSocket = window.WebSocket;
const record = (frame) => {
  if (frame.type === "batch") frame.frames.forEach(record);
  else window.__frames.push(frame);
};
window.WebSocket = class extends NativeWebSocket {
  constructor(url, protocols) {
    super(url, protocols);
    this.addEventListener("message", (m) => record(JSON.parse(m.data)));
  }
};
Object.defineProperty(Navigator.prototype, "vibrate", {
  configurable: true, value: () => { window.__alarms += 1; return true; } });
"""


async def _phone(browser: Browser, base_url: str, watch: Watch) -> tuple[Page, BrowserContext]:
    return await phone_page(browser, base_url, watch, CODE, position=(-4.0012, 119.6405),
                            init_script=RECORDER)


async def _stored_steps(db: asyncpg.Connection, incident_id: int) -> list[str]:
    """The phone's steps the service logged for the incident, in seq order."""
    rows = await db.fetch(
        """SELECT data->>'action' AS action FROM events
           WHERE name = 'incident.updated' AND incident_id = $1 AND data->>'client_id' IS NOT NULL
           ORDER BY seq""", incident_id)
    return [row["action"] for row in rows]


async def _fired(event: asyncio.Event, what: str) -> None:
    try:
        await asyncio.wait_for(event.wait(), WAIT_S)
    except TimeoutError:
        raise AssertionError(f"the cut armed for {what} never fell") from None


@pytest.fixture
def service_logs() -> Iterator[list[dict]]:
    """What the service logs during the test (structlog's events as dicts)."""
    with structlog.testing.capture_logs() as logs:
        yield logs


class Phone:
    """The page, with what the test looks at on it."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.button = page.locator("#next-step")
        self.net = page.locator("#net-state")
        self.waiting = page.locator("#pending")

    async def queued(self) -> int:
        return await self.page.evaluate("pending().length")

    async def shown(self) -> dict | None:
        return await self.page.evaluate(
            "current && {incident: current.incident.id, status: current.incident.status}")

    async def offers(self, action: str) -> None:
        await expect(self.button).to_have_attribute("data-action", action)

    async def offline(self) -> None:
        await expect(self.net).to_have_text("Luring")

    async def settled(self, db: asyncpg.Connection, incident_id: int, steps: list[str],
                      offers: str) -> None:
        """Back online with nothing waiting, the service holding exactly `steps` of the
        incident, and the card offering `offers`."""
        await expect(self.waiting).to_be_hidden()
        await expect(self.net).to_have_text("Daring")
        assert await _stored_steps(db, incident_id) == steps
        await self.offers(offers)


@pytest.mark.settings(ack_timeout_s=600)
async def test_a_phone_on_a_flapping_connection_ends_as_the_service_and_stores_each_step_once(
        browser: Browser, api: Api, db: asyncpg.Connection, service: str,
        service_logs: list[dict]) -> None:
    started = time.monotonic()
    team = await api.team(CODE, -4.001, 119.6405)
    async with FlakyProxy(urlsplit(service).port) as proxy:
        watch = Watch(proxy.base_url)
        page, context = await _phone(browser, proxy.base_url, watch)
        server_errors: list[str] = []
        answers: list[dict] = []   # the service's answers to steps that reached the phone

        async def on_response(response: Response) -> None:
            if response.status >= 500 and response.status != 503:
                server_errors.append(f"{response.status} {response.url}")
            if response.url.endswith("/api/v1/team/status") and response.ok:
                answers.append(await response.json())
        context.on("response", on_response)
        phone = Phone(page)
        await expect(page.locator("#idle")).to_be_visible()
        await expect(phone.net).to_have_text("Daring")
        first = (await api.incident(-4.0005, 119.6402)).json()
        assert first["assignment"]["team_id"] == team["id"]
        a = first["id"]
        await phone.offers("acknowledge")

        # 1. Acknowledge: the service stores it, its answer never reaches the phone.
        fired = proxy.arm(answer_to(STEP), mode=REFUSE, forward_first=False)
        await phone.button.click()
        await _fired(fired, "the acknowledgement's answer")
        await phone.offline()
        assert await phone.queued() == 1
        assert await _stored_steps(db, a) == ["acknowledge"]
        await phone.offers("en_route")          # shown at once, as tapped
        proxy.restore()
        await phone.settled(db, a, STEPS[:1], "en_route")

        # 2. En route and on scene tapped while cut off: both wait on the phone.
        proxy.cut(REFUSE)
        await phone.offline()
        await phone.button.click()
        await phone.offers("on_scene")
        await phone.button.click()
        await phone.offers("transporting")
        assert await phone.queued() == 2
        assert await _stored_steps(db, a) == STEPS[:1]
        # 3. ... and the signal drops again as the socket says hello to resume.
        fired = proxy.arm(websocket_hello(), mode=REFUSE)
        proxy.restore()
        await _fired(fired, "the socket's hello")
        await phone.offline()
        proxy.restore()
        await phone.settled(db, a, STEPS[:3], "transporting")

        # 4. Transporting: the signal vanishes right after the tap, packets lost.
        await phone.button.click()
        proxy.cut(BLACKHOLE)
        await phone.offline()
        await phone.offers("at_hospital")
        proxy.restore()
        await phone.settled(db, a, STEPS[:4], "at_hospital")

        # 5. At hospital: cut while the request is on its way, before any answer.
        fired = proxy.arm(request_sent(STEP), mode=BLACKHOLE)
        await phone.button.click()
        await _fired(fired, "the at-hospital request")
        await phone.offline()
        proxy.restore()
        await phone.settled(db, a, STEPS[:5], "clear")

        # 6. Clear: stored, the answer lost; while the phone is cut off the team, free
        # again, gets a second emergency.
        fired = proxy.arm(answer_to(STEP), mode=REFUSE, forward_first=False)
        await phone.button.click()
        await _fired(fired, "the clear's answer")
        await expect(page.locator("#idle")).to_be_visible()
        second = (await api.incident(-4.0021, 119.6388, priority=1)).json()
        assert second["assignment"] and second["assignment"]["team_id"] == team["id"]
        b = second["id"]
        # 7. The socket resumes, is welcomed, and the signal drops in the middle of it.
        fired = proxy.arm(websocket_welcome(), mode=REFUSE)
        proxy.restore()
        await _fired(fired, "the socket's welcome")
        await phone.offline()
        proxy.restore()
        await phone.offers("acknowledge")
        assert (await phone.shown())["incident"] == b
        await phone.settled(db, a, STEPS, "acknowledge")

        # 8. The second emergency acknowledged while cut off.
        proxy.cut(REFUSE)
        await phone.offline()
        await phone.button.click()
        await phone.offers("en_route")
        assert await phone.queued() == 1
        proxy.restore()
        await phone.settled(db, b, ["acknowledge"], "en_route")

        # The phone shows what the service holds.
        await api.device_token(CODE)
        held = (await api.get("/api/v1/team/assignment", role=f"team:{CODE}")).json()
        assignment = held["assignment"]
        assert assignment["incident"]["id"] == b
        assert await phone.shown() == {"incident": b, "status": assignment["incident"]["status"]}
        await phone.offers(NEXT[assignment["incident"]["status"]])
        assert (await api.get(f"/api/v1/incidents/{a}")).json()["status"] == "closed"
        # Every step of both incidents stored once, in order; none refused on the phone.
        assert await _stored_steps(db, a) == STEPS
        assert await _stored_steps(db, b) == ["acknowledge"]
        assert await page.evaluate("refusedSteps().length") == 0
        await expect(page.locator("#refused")).to_be_hidden()
        # Each assignment reached the phone exactly once after dedup by seq (the second
        # in the replay after the cut), and rang once.
        frames = await page.evaluate("window.__frames")
        created = {f["seq"]: f["data"]["assignment_id"] for f in frames
                   if f.get("type") == "event" and f["name"] == "assignment.created"}
        assert list(created.values()) == [first["assignment"]["id"], assignment["id"]]
        assert await page.evaluate("window.__alarms") == 2
        seqs = [f["seq"] for f in frames if f.get("type") == "event"]
        assert seqs == sorted(seqs), "events arrived out of order"
        # No team on two incidents, at any time.
        assert await db.fetchval(
            """SELECT count(*) FROM assignments x JOIN assignments y
               ON x.team_id = y.team_id AND x.id < y.id
               AND x.created_at < coalesce(y.ended_at, 'infinity')
               AND y.created_at < coalesce(x.ended_at, 'infinity')""") == 0
        # The answers lost in cuts 1 and 6 were made up for by sending the step again,
        # which the service recognised (same client_id) and did not do twice.
        replayed = {answer["action"] for answer in answers if answer.get("replayed")}
        assert {"acknowledge", "clear"} <= replayed, answers
        assert server_errors == []
        # Nor a 500 that no browser saw, its client being gone.
        assert [e for e in service_logs if e["event"] == "request.crashed"] == []
        assert watch.errors == [] and watch.foreign == [] and watch.dialogs == []
        assert proxy.cuts >= 7
        await context.close()
    print(f"\n{proxy.cuts} cuts, {proxy.websockets_opened} sockets opened, {len(frames)} frames,"
          f" {len(answers)} step answers (steps replayed: {sorted(replayed)}), "
          f"{time.monotonic() - started:.1f} s")


@pytest.mark.settings(ack_timeout_s=600)
async def test_a_step_sent_on_a_connection_gone_silent_goes_over_the_live_socket_once(
        browser: Browser, api: Api, db: asyncpg.Connection, service: str) -> None:
    """The pooled connection a step goes out on dies without a word (a mobile network's
    NAT forgot it) while the live socket, kept busy by heartbeats, lives on: the request
    never gets an answer. The phone gives up on it in time and sends the step over the
    socket; the service does it once. (Before, the queue waited for the browser to give
    up on the connection: many minutes, the team's later steps stuck behind it.)"""
    await api.team(CODE, -4.001, 119.6405)
    a = (await api.incident(-4.0005, 119.6402)).json()["id"]
    async with FlakyProxy(urlsplit(service).port) as proxy:
        watch = Watch(proxy.base_url)
        page, context = await _phone(browser, proxy.base_url, watch)
        phone = Phone(page)
        await phone.offers("acknowledge")
        await expect(phone.net).to_have_text("Daring")
        fired = proxy.arm(request_sent(STEP), mode=FREEZE)
        await phone.button.click()
        await _fired(fired, "the step's request")
        assert proxy.lost_requests == [STEP + b" HTTP/1.1"]
        await expect(phone.waiting).to_be_visible()
        sent = time.monotonic()
        await phone.settled(db, a, ["acknowledge"], "en_route")
        print(f"\nthe step went through {time.monotonic() - sent:.1f} s after its tap")
        assert proxy.lost_requests == [STEP + b" HTTP/1.1"]   # not sent on it again
        results = [f for f in await page.evaluate("window.__frames") if f["type"] == "result"]
        assert [(r["ok"], r["action"]) for r in results] == [(True, "acknowledge")]
        assert watch.errors == [] and watch.foreign == []
        await context.close()


async def test_a_step_cut_off_in_the_middle_of_its_body_is_logged_not_a_crash(
        api: Api, db: asyncpg.Connection, service: str, service_logs: list[dict]) -> None:
    """Signal lost while the phone is still sending a step: the service read half a
    body. It did nothing, and says so in an info line, not as a crash (500)."""
    await api.team(CODE, -4.001, 119.6405)
    incident = (await api.incident(-4.0005, 119.6402)).json()
    token = await api.device_token(CODE)
    body = (b'{"action": "acknowledge", "incident_id": %d, "client_id": "half-sent"}'
            % incident["id"])
    head = (f"POST /api/v1/team/status HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", urlsplit(service).port)
    writer.write(head + body[:20])
    await writer.drain()   # headers and a part of the body are on their way...
    writer.transport.abort()   # ...and the rest never comes
    ended = ("request.client_gone", "request.crashed")
    await wait_until(lambda: [e for e in service_logs if e["event"] in ended],
                     what="the service's word on the cut-off request")
    events = [e["event"] for e in service_logs]
    assert "request.client_gone" in events
    assert "request.crashed" not in events
    assert await _stored_steps(db, incident["id"]) == []
    # The same step sent whole afterwards takes effect, once.
    assert (await api.step(CODE, "acknowledge", incident["id"], "half-sent")).status_code == 200
    assert await _stored_steps(db, incident["id"]) == ["acknowledge"]
