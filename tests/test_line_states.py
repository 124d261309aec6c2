"""The parts of line failover that need no service: the state machine, the choice of
the active line, and the SIP OPTIONS client against small local UDP peers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from dispatch.config import Settings, SettingsError
from dispatch.lines.probes import get_probe
from dispatch.lines.sip import build_options, matches, parse_response, probe_options
from dispatch.lines.states import SOURCES, LineState, Streaks, next_streaks, pick_active


def run(results: str, state: str = "unknown", fail_after: int = 2,
        recover_after: int = 3) -> list[str]:
    """The state after each result ('+' success, '-' failure)."""
    streaks, states = Streaks(state), []
    for mark in results:
        streaks = next_streaks(streaks, mark == "+", fail_after, recover_after)
        states.append(streaks.state)
    return states


def test_state_moves_only_after_consecutive_results() -> None:
    assert run("++-+++") == ["unknown", "unknown", "unknown", "unknown", "unknown", "up"]
    assert run("--") == ["unknown", "down"]
    assert run("-+-+--", state="up") == ["up"] * 5 + ["down"]
    assert run("++-+++", state="down") == ["down"] * 5 + ["up"]
    assert run("+", state="up", recover_after=1) == ["up"]


def test_runs_count_on_and_reset() -> None:
    streaks = Streaks("up", ok=7)
    streaks = next_streaks(streaks, False, 3, 2)
    assert streaks == Streaks("up", ok=0, fail=1)
    for _ in range(4):
        streaks = next_streaks(streaks, False, 3, 2)
    assert streaks == Streaks("down", ok=0, fail=5)


def test_the_guard_of_each_target_state() -> None:
    assert SOURCES == {"up": ("down", "unknown"), "down": ("unknown", "up")}


@pytest.mark.parametrize(("states", "override", "expected"), [
    ([], None, (None, False, False)),
    (["up", "up"], None, (1, False, False)),
    (["down", "up", "up"], None, (2, False, False)),
    (["unknown", "unknown"], None, (1, False, False)),   # starting: primary, no alarm
    (["down", "unknown"], None, (1, True, False)),       # known dead, nothing known good
    (["down", "down"], None, (1, True, False)),
    (["up", "up"], 2, (2, False, True)),
    (["down", "down"], 2, (2, True, True)),
    (["up", "up"], 99, (1, False, False)),               # an override of a line gone
])
def test_active_line(states: list[str], override: int | None,
                     expected: tuple[int | None, bool, bool]) -> None:
    lines = [LineState(i + 1, i * 10, state) for i, state in enumerate(states)]
    active = pick_active(list(reversed(lines)), override)
    assert (active.line_id, active.critical, active.override) == expected


def test_ties_in_priority_go_to_the_older_line() -> None:
    lines = [LineState(5, 1, "up"), LineState(3, 1, "up"), LineState(9, 0, "down")]
    assert pick_active(lines, None).line_id == 3


def test_probe_settings_are_read_defensively() -> None:
    assert get_probe({"kind": "bogus"}, 1.0).kind == "none"
    beat = get_probe({"kind": "heartbeat", "timeout_s": 2.0}, 1.0)
    assert (beat.interval_s, beat.fail_after, beat.recover_after) == (0.5, 1, 1)
    assert get_probe({"kind": "heartbeat", "timeout_s": 60.0}, 1.0).interval_s == 1.0
    sip = get_probe({"kind": "sip_options", "host": "pbx", "interval_s": 0.001}, 1.0)
    assert (sip.port, sip.interval_s, sip.monitored) == (5060, 0.05, True)


def test_webhook_setting_takes_only_http_urls() -> None:
    env = {"DISPATCH112_FAILOVER_WEBHOOKS": " http://sms.local/hook , https://bot/x,"}
    assert Settings.from_env(env).failover_webhooks == ("http://sms.local/hook",
                                                        "https://bot/x")
    with pytest.raises(SettingsError):
        Settings.from_env({"DISPATCH112_FAILOVER_WEBHOOKS": "ftp://x"})
    with pytest.raises(SettingsError):
        Settings.from_env({"DISPATCH112_LINE_POLL_S": "nan"})


def test_options_request_is_a_proper_rfc3261_request() -> None:
    request = build_options(("10.0.0.5", 5070), ("127.0.0.1", 40000), user_agent="ua")
    text = request.data.decode()
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    assert lines[0] == "OPTIONS sip:10.0.0.5:5070 SIP/2.0" and body == ""
    headers = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in lines[1:]}
    assert headers["Via"].startswith("SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bK")
    assert request.branch in headers["Via"] and headers["Call-ID"] == request.call_id
    assert headers["Max-Forwards"] == "70" and headers["CSeq"] == "1 OPTIONS"
    assert ";tag=" in headers["From"] and headers["To"] == "<sip:10.0.0.5:5070>"
    assert headers["Contact"] == "<sip:dispatch112@127.0.0.1:40000>"
    assert headers["Content-Length"] == "0" and headers["User-Agent"] == "ua"
    ipv6 = build_options(("::1", 5060), ("::1", 4000))
    assert ipv6.data.startswith(b"OPTIONS sip:[::1]:5060 SIP/2.0")


def answer(request_data: bytes, status: str, *, branch: str | None = None,
           call_id: str | None = None, compact: bool = False) -> bytes:
    """A response to `request_data`, optionally with another branch or Call-ID."""
    headers = dict(line.split(": ", 1) for line in
                   request_data.decode().split("\r\n\r\n")[0].split("\r\n")[1:])
    via = headers["Via"] if branch is None else headers["Via"].replace(
        headers["Via"].split("branch=")[1].split(";")[0], branch)
    names = ("v", "i") if compact else ("Via", "Call-ID")
    return (f"SIP/2.0 {status}\r\n{names[0]}: {via}\r\n"
            f"  ;received=127.0.0.1\r\nFrom: {headers['From']}\r\n"
            f"To: {headers['To']};tag=x\r\n{names[1]}: {call_id or headers['Call-ID']}\r\n"
            f"CSeq:   1   options\r\nContent-Length: 0\r\n\r\n").encode()


def test_responses_are_matched_to_their_transaction() -> None:
    request = build_options(("127.0.0.1", 5060), ("127.0.0.1", 4000))
    assert matches(parse_response(answer(request.data, "200 OK", compact=True)), request)
    assert not matches(parse_response(answer(request.data, "200 OK", branch="z9hG4bKx")),
                       request)
    assert not matches(parse_response(answer(request.data, "200 OK", call_id="a@b")), request)
    assert parse_response(b"OPTIONS sip:x SIP/2.0\r\n\r\n") is None
    assert parse_response(b"\x00\xff garbage") is None
    assert parse_response(answer(request.data, "486 Busy Here")).reason == "Busy Here"


class Peer(asyncio.DatagramProtocol):
    """A UDP peer on loopback that answers each datagram with `reply(data)`' datagrams."""

    def __init__(self, reply: Callable[[bytes], list[bytes]]) -> None:
        self.reply, self.heard = reply, []

    def connection_made(self, transport: asyncio.DatagramTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        self.heard.append(data)
        for datagram in self.reply(data):
            self.transport.sendto(datagram, addr)


async def with_peer(reply: Callable[[bytes], list[bytes]], timeout_s: float):
    loop = asyncio.get_running_loop()
    transport, peer = await loop.create_datagram_endpoint(
        lambda: Peer(reply), local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        return await probe_options("127.0.0.1", port, timeout_s), peer.heard
    finally:
        transport.close()


async def test_strays_and_provisional_answers_are_passed_over() -> None:
    def reply(data: bytes) -> list[bytes]:
        return [b"not sip", answer(data, "200 OK", call_id="other@x"),
                answer(data, "100 Trying"), answer(data, "200 OK")]
    result, heard = await with_peer(reply, 1.0)
    assert (result.ok, result.detail, len(heard)) == (True, "200 OK", 1)


async def test_only_200_is_alive() -> None:
    result, _ = await with_peer(lambda data: [answer(data, "404 Not Found")], 1.0)
    assert (result.ok, result.detail) == (False, "404 Not Found")


async def test_silence_is_retransmitted_on_the_rfc_timer_then_fails() -> None:
    result, heard = await with_peer(lambda data: [], 1.6)
    # Sent at 0, 0.5 and 1.5 s (T1, doubling); the same transaction each time.
    assert (result.ok, result.detail) == (False, "no answer within 1.6 s")
    assert len(heard) == 3 and len(set(heard)) == 1


async def test_a_late_answer_after_a_retransmission_still_counts() -> None:
    replies = iter([[], []])

    def reply(data: bytes) -> list[bytes]:
        return next(replies, [answer(data, "200 OK")])
    result, heard = await with_peer(reply, 3.0)
    assert result.ok and len(heard) == 3
