"""Running the service for a benchmark: as its own `dispatch112 serve` process (the
honest set-up: the load generator does not share its event loop), or in-process."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
# Long enough that no assignment is withdrawn for want of an acknowledgement mid-run.
ACK_TIMEOUT_S = 3600


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_command(port: int) -> list[str]:
    # `python -m` run in ROOT serves this tree's code. The venv's `dispatch112` script
    # would import the packages its editable install points at, which for a venv
    # shared by git worktrees is another checkout.
    return [sys.executable, "-m", "dispatch.cli", "serve", "--host", "127.0.0.1",
            "--port", str(port)]


def _spawn(cmd: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "wb") as log:
        return subprocess.Popen(cmd, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)


async def _wait_healthy(base_url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"dispatch112 serve exited with {proc.returncode}")
            try:
                if (await http.get("/api/v1/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"dispatch112 serve not healthy after {START_TIMEOUT_S:.0f} s")


async def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process we started, by its pid; SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        await asyncio.to_thread(proc.wait, STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        await asyncio.to_thread(proc.wait)


@asynccontextmanager
async def service_process(dsn: str, log_path: Path, log_level: str,
                          extra_env: dict[str, str] | None = None
                          ) -> AsyncIterator[tuple[str, int]]:
    """`dispatch112 serve` on a free loopback port with DATABASE_URL=`dsn` (and
    `extra_env`, e.g. DISPATCH112_ROUTER); its output goes to `log_path`. Yields
    (base URL, pid); the process is stopped afterwards."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": dsn, "DISPATCH112_SECRET_KEY": "bench-secret",
           "DISPATCH112_ACK_TIMEOUT_S": str(ACK_TIMEOUT_S), "DISPATCH112_LOG_LEVEL": log_level,
           **(extra_env or {})}
    proc = _spawn(_serve_command(port), env, log_path)
    try:
        base_url = f"http://127.0.0.1:{port}"
        await _wait_healthy(base_url, proc)
        yield base_url, proc.pid
    finally:
        await _stop(proc)


@asynccontextmanager
async def service_in_process(dsn: str) -> AsyncIterator[tuple[str, int]]:
    """The app under uvicorn in this process and event loop (tests/support.py); its
    log is quietened to warnings so that it does not flood the terminal."""
    from dispatch.config import Settings
    from dispatch.logs import configure_logging
    from tests.support import running_service
    configure_logging("warning")
    settings = Settings(database_url=dsn, secret_key="bench-secret", ack_timeout_s=ACK_TIMEOUT_S)
    async with running_service(settings) as base_url:
        yield base_url, os.getpid()
