"""`make run` sets up, loads the Parepare demo (with the shipped city pack) and serves it;
run again, it overwrites nothing and serves again."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read()
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("make run did not answer /api/v1/health in time")


def _start(tmp_path: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DISPATCH112_DATA_DIR=str(tmp_path / "data"), PORT=str(port))
    process = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    return process, f"http://127.0.0.1:{port}"


def _stop(process: subprocess.Popen, tmp_path: Path) -> str:
    """Stop `make run`; its output. The embedded PostgreSQL must be stopped too."""
    os.killpg(process.pid, signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    status = subprocess.run(["python3", "-m", "db.embedded", "status", "--data-dir",
                             str(tmp_path / "data")], cwd=ROOT, capture_output=True, text=True)
    assert status.stdout.strip() == "stopped", "the embedded PostgreSQL was left running"
    return output


def _operator_token(url: str) -> str:
    login = httpx.post(f"{url}/api/v1/auth/token",
                       json={"username": "operator", "password": "operator-112"})
    assert login.status_code == 200
    return login.json()["access_token"]


def test_make_run_serves_the_demo(tmp_path: Path) -> None:
    process, url = _start(tmp_path)
    try:
        _wait_healthy(url, process, seconds=180)
        token = _operator_token(url)
        teams = httpx.get(f"{url}/api/v1/teams", headers={"Authorization": f"Bearer {token}"})
        on_duty = [t for t in teams.json()["items"] if t["on_duty"]]
        assert len(on_duty) >= 5
        assert any(t["base_name"] == "RSUD Andi Makkasau" for t in on_duty)
        districts = httpx.get(f"{url}/api/v1/districts",
                              headers={"Authorization": f"Bearer {token}"}).json()
        levels = [f["properties"]["level"] for f in districts["features"] if f["geometry"]]
        assert (levels.count("kecamatan"), levels.count("kelurahan")) == (4, 22)
    finally:
        output = _stop(process, tmp_path)
    assert "operator / operator-112" in output
    assert f"{url}/" in output

    # A second `make run` on the same data: nothing overwritten, the service starts.
    process, url = _start(tmp_path)
    try:
        _wait_healthy(url, process, seconds=180)
        _operator_token(url)
    finally:
        output = _stop(process, tmp_path)
    assert "kept as they were" in output and "user operator" in output
    assert "history already loaded" in output
    assert f"{url}/" in output
