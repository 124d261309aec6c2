"""SIPp as the real SIP peer of the line probes: a trunk or PBX on 127.0.0.1 that
answers OPTIONS (tests/sipp/options_200.xml, options_503.xml), started, killed and
restarted by the tests and the failover benchmark.

sipp (Debian's sip-tester) is installed by `make test-deps`. Without it the tests
that need it fail: they are what proves the failover against a real SIP peer.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path

from dispatch.lines.sip import probe_options

SCENARIOS = Path(__file__).resolve().parent / "sipp"
HOST = "127.0.0.1"


def find_sipp() -> str:
    """The sipp binary; fails the test when it is missing."""
    path = shutil.which("sipp")
    if path is not None:
        return path
    import pytest
    pytest.fail("sipp is not installed (Debian package sip-tester; `make test-deps`)")


def free_udp_port() -> int:
    """A UDP port on loopback that nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class SippPeer:
    """One sipp UAS on 127.0.0.1:`port`, answering every OPTIONS per `scenario`.
    `message_log`: a file where sipp traces every message it receives and sends."""

    def __init__(self, port: int | None = None, scenario: str = "options_200.xml", *,
                 message_log: Path | None = None) -> None:
        self.binary = find_sipp()
        self.port = port or free_udp_port()
        self.scenario = scenario
        self.message_log = message_log
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        command = [self.binary, "-sf", str(SCENARIOS / self.scenario), "-i", HOST,
                   "-p", str(self.port), "-t", "u1", "-nostdin", "-m", "1000000"]
        if self.message_log is not None:
            command += ["-trace_msg", "-message_file", str(self.message_log),
                        "-message_overwrite", "false"]
        return command

    def spawn(self) -> None:
        """Start sipp, in its own process group (killed as a whole)."""
        self.process = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        cwd=SCENARIOS, start_new_session=True)

    async def start(self, timeout_s: float = 10.0) -> SippPeer:
        """Start sipp and wait until it answers an OPTIONS."""
        self.spawn()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sipp exited: {self.process.stderr.read().decode()[-500:]}")
            result = await probe_options(HOST, self.port, 0.2, user_agent="sipp-readiness")
            if not result.detail.startswith(("unreachable", "no answer")):
                return self
            await asyncio.sleep(0.05)
        self.kill()
        raise TimeoutError(f"sipp on port {self.port} did not answer within {timeout_s} s")

    def kill(self) -> None:
        """Kill sipp at once (the trunk dies): its port stops answering."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # stopped or not, it dies
            self.process.wait(5)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        self.process = None

    def freeze(self) -> None:
        """Stop sipp without closing its port (a hung PBX): probes meet silence, no ICMP."""
        os.killpg(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    async def __aenter__(self) -> SippPeer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.kill()


def read_user_agents(message_log: Path) -> list[str]:
    """The User-Agent of every OPTIONS that sipp logged as received."""
    if not message_log.exists():
        return []
    agents, in_options = [], False
    for line in message_log.read_text(errors="replace").splitlines():
        if line.startswith("OPTIONS "):
            in_options = True
        elif in_options and line.lower().startswith("user-agent:"):
            agents.append(line.split(":", 1)[1].strip())
            in_options = False
        elif not line.strip():
            in_options = False
    return agents
