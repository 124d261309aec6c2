"""The health office reads reports, never callers: no caller number appears in any byte
of any report, in any format (JSON, CSV, Excel, chart SVG), and only the health
office and admins may read them."""

from __future__ import annotations

import io
import zipfile

import asyncpg
import pytest

from dispatch.api import OPERATIONS
from tests.reports_data import make_history
from tests.support import Api

pytestmark = pytest.mark.settings(sweep_interval_s=3600)
PERIOD = {"from": "2026-06-01", "to": "2026-08-31"}
NUMBER = "081277773333"
# The ways a number may be written: as typed, E.164, without the plus, without the 0.
FORMS = (NUMBER, "+6281277773333", "6281277773333", "81277773333")


def report_paths() -> list[str]:
    """Every GET operation under /api/v1/reports (charts included)."""
    return sorted(op.path for op in OPERATIONS
                  if op.method == "get" and op.path.startswith("/api/v1/reports/"))


def readable(path: str, content: bytes) -> bytes:
    """The bytes to search: an Excel file is a zip of XML parts, searched part by part."""
    if not path.endswith(".xlsx"):
        return content
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return b"\n".join(book.read(name) for name in book.namelist())


@pytest.fixture
async def past(api: Api, db: asyncpg.Connection) -> None:
    teams = {(await api.team("P1", -4.0, 119.64))["id"]: "P1"}
    await make_history(db, teams, count=60)
    await db.execute("UPDATE incidents SET caller_number = $1", "+6281277773333")
    call = await api.post("/api/v1/calls", {"caller_number": NUMBER})
    assert call.status_code == 201
    dropped = await api.post(f"/api/v1/calls/{call.json()['id']}/end",
                             {"disposition": "dropped"})
    assert dropped.status_code == 200


async def test_no_report_holds_a_caller_number(api: Api, past: None) -> None:
    # The numbers are there to be found: the operators' list shows them.
    listed = (await api.get("/api/v1/incidents", role="operator")).content
    assert b"+6281277773333" in listed
    paths = report_paths()
    assert "/api/v1/reports/response-times.csv" in paths and len(paths) >= 3
    for path in paths:
        response = await api.get(path.replace("{name}", "response-distribution"),
                                 params=PERIOD, role="health_office")
        assert response.status_code == 200, (path, response.text[:200])
        content = readable(path, response.content)
        for form in FORMS:
            assert form.encode() not in content, (path, form)


@pytest.mark.parametrize("role,status", [("admin", 200), ("health_office", 200),
                                         ("operator", 403), (None, 401)])
async def test_only_the_health_office_and_admins_read_reports(
        api: Api, past: None, role: str | None, status: int) -> None:
    for path in report_paths():
        response = await api.get(path.replace("{name}", "response-distribution"),
                                 params=PERIOD, role=role)
        assert response.status_code == status, path
