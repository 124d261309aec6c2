"""SIP OPTIONS over UDP: is the trunk or PBX behind a line alive?

What Kamailio's dispatcher keepalives and Asterisk's qualify do: one OPTIONS request
(RFC 3261 section 11) sent as a non-INVITE client transaction (section 17.1.2):
retransmitted after T1 = 0.5 s, doubling up to T2 = 4 s, until the probe's timeout.
The first final response of that transaction (same top Via branch, Call-ID and
CSeq) decides: 200 is alive; any other final status, silence until the timeout, or
an ICMP error (nothing listens on the port) is a failure. Provisional 1xx answers
and datagrams of other transactions are ignored.

Each probe uses its own connected UDP socket, so a late answer to an earlier probe
cannot be taken for this one, and the kernel reports an ICMP "port unreachable" at
once instead of letting the probe wait for its timeout.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass

from dispatch.lines.timing import wait_future

T1_S, T2_S = 0.5, 4.0
# RFC 3261 section 8.1.1.7: every branch starts with this magic cookie.
BRANCH_COOKIE = "z9hG4bK"
# Compact header forms (RFC 3261 section 7.3.3) of the headers read here.
COMPACT = {"i": "call-id", "v": "via", "f": "from", "t": "to", "l": "content-length"}
_STATUS_LINE = re.compile(r"^SIP/2\.0\s+(\d{3})(?:\s+(.*))?$")
_BRANCH = re.compile(r";\s*branch\s*=\s*([^;,\s]+)", re.IGNORECASE)


@dataclass(frozen=True)
class ProbeResult:
    """One probe's outcome; `detail` says why in words for the line history and logs."""

    ok: bool
    detail: str
    rtt_s: float | None = None


@dataclass(frozen=True)
class OptionsRequest:
    """One OPTIONS transaction: what identifies it, and its bytes on the wire."""

    branch: str
    call_id: str
    cseq: str
    data: bytes


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: dict[str, list[str]]

    def first(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[0] if values else None


def _uri_host(host: str) -> str:
    """A host as it stands in a SIP URI or Via: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def build_options(target: tuple[str, int], local: tuple[str, int], *,
                  user_agent: str = "dispatch112") -> OptionsRequest:
    """A new OPTIONS transaction from `local` (this socket's address) to `target`."""
    host, port = _uri_host(target[0]), target[1]
    local_host, local_port = _uri_host(local[0]), local[1]
    branch = BRANCH_COOKIE + secrets.token_hex(8)
    call_id = f"{secrets.token_hex(12)}@{local_host}"
    cseq = "1 OPTIONS"
    uri = f"sip:{host}:{port}"
    lines = [
        f"OPTIONS {uri} SIP/2.0",
        f"Via: SIP/2.0/UDP {local_host}:{local_port};branch={branch};rport",
        "Max-Forwards: 70",
        f"From: <sip:dispatch112@{local_host}>;tag={secrets.token_hex(6)}",
        f"To: <{uri}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq}",
        f"Contact: <sip:dispatch112@{local_host}:{local_port}>",
        "Accept: application/sdp",
        f"User-Agent: {user_agent}",
        "Content-Length: 0",
        "", "",
    ]
    return OptionsRequest(branch, call_id, cseq, "\r\n".join(lines).encode())


def _header_lines(head: str) -> list[str]:
    """Header lines with folded continuation lines (leading whitespace) joined."""
    joined: list[str] = []
    for line in head.splitlines():
        if line[:1] in (" ", "\t") and joined:
            joined[-1] += " " + line.strip()
        elif line.strip():
            joined.append(line)
    return joined


def parse_response(data: bytes) -> Response | None:
    """A SIP response's status and headers (names lower-case, compact forms expanded);
    None when the datagram is not a SIP response."""
    text = data.decode("utf-8", errors="replace")
    head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    lines = _header_lines(head)
    match = _STATUS_LINE.match(lines[0].strip()) if lines else None
    if match is None:
        return None
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            name = name.strip().lower()
            headers.setdefault(COMPACT.get(name, name), []).append(value.strip())
    return Response(int(match.group(1)), (match.group(2) or "").strip(), headers)


def _top_via_branch(response: Response) -> str | None:
    via = response.first("via")
    match = _BRANCH.search(via.split(",")[0]) if via else None
    return match.group(1) if match else None


def matches(response: Response, request: OptionsRequest) -> bool:
    """Whether `response` answers `request` (RFC 3261 section 17.1.3: top Via branch
    and CSeq method; the Call-ID is checked too)."""
    cseq = " ".join((response.first("cseq") or "").split()).upper()
    return (response.first("call-id") == request.call_id
            and cseq == request.cseq.upper()
            and _top_via_branch(response) == request.branch)


class _Transaction(asyncio.DatagramProtocol):
    """Receives datagrams for one OPTIONS transaction; `done` gets its result."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.request: OptionsRequest | None = None
        self.sent_at = loop.time()
        self.done: asyncio.Future[ProbeResult] = loop.create_future()

    def _finish(self, result: ProbeResult) -> None:
        if not self.done.done():
            self.done.set_result(result)

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        response = parse_response(data)
        if response is None or self.request is None or not matches(response, self.request):
            return
        if response.status >= 200:
            detail = f"{response.status} {response.reason}".strip()
            self._finish(ProbeResult(response.status == 200, detail,
                                     self.loop.time() - self.sent_at))

    def error_received(self, exc: Exception) -> None:
        # ICMP port or host unreachable, reported on the connected socket.
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        self._finish(ProbeResult(False, f"unreachable: {reason}"))


async def _await_answer(transport: asyncio.DatagramTransport, protocol: _Transaction,
                        deadline: float, timeout_s: float) -> ProbeResult:
    """Send, retransmit on the RFC 3261 timer until `deadline`, return the outcome."""
    loop = protocol.loop
    wait = T1_S
    transport.sendto(protocol.request.data)
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            return ProbeResult(False, f"no answer within {timeout_s:g} s")
        if await wait_future(protocol.done, min(wait, remaining)):
            return protocol.done.result()
        if deadline - loop.time() > 0:
            transport.sendto(protocol.request.data)
        wait = min(wait * 2, T2_S)


async def probe_options(host: str, port: int, timeout_s: float, *,
                        user_agent: str = "dispatch112") -> ProbeResult:
    """Send one SIP OPTIONS to host:port over UDP and wait up to `timeout_s` for its
    final answer. Never raises for network trouble: that is a failed probe."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s  # name resolution included
    try:
        async with asyncio.timeout(timeout_s):
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: _Transaction(loop), remote_addr=(host, port))
    except TimeoutError:
        return ProbeResult(False, f"cannot resolve {host} within {timeout_s:g} s")
    except OSError as exc:
        return ProbeResult(False, f"cannot reach {host}:{port}: {exc.strerror or exc}")
    try:
        local = transport.get_extra_info("sockname")[:2]
        protocol.request = build_options((host, port), local, user_agent=user_agent)
        protocol.sent_at = loop.time()
        return await _await_answer(transport, protocol, deadline, timeout_s)
    finally:
        transport.close()
