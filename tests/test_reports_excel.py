"""GET /api/v1/reports/response-times.xlsx: the workbook opens, its log holds the CSV's
rows and columns, its other sheets the summaries; text cannot run as a formula and no
caller number is in any byte."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta

import asyncpg
import numpy
import openpyxl
import pytest

from tests.reports_support import (
    WITA,
    insert_assignment,
    insert_call,
    insert_incident,
    insert_shift,
    local,
)
from tests.support import CITY, Api

CALLERS = [f"+6289990002{i:03d}" for i in range(20)]
EVIL = '=HYPERLINK("http://evil.example","klik")'
MONTH = "from=2025-03-01&to=2025-03-31"
SHEETS = ["Ringkasan", "Fraktil", "Beban kerja", "Panggilan", "Log"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# (received at, local; priority; seconds from the call to on scene; in the "=" district)
INCIDENTS = [("2025-03-03 00:30", 1, 480, True), ("2025-03-04 12:00", 1, 1200, False),
             ("2025-03-10 23:50", 2, 700, True), ("2025-03-20 07:15", 1, 560, False),
             ("2025-03-31 23:59", 3, 300, False)]


async def _data(api: Api, db: asyncpg.Connection) -> dict:
    team = (await api.team("X1", *CITY, kind="als", on_duty=False))["id"]
    evil, plain = [await db.fetchval(
        """INSERT INTO districts (name, centroid_lat, centroid_lon, level)
           VALUES ($1, -4.0, 119.6, 'kecamatan') RETURNING id""", name)
        for name in (EVIL, "Soreang")]
    await insert_shift(db, team, local("2025-03-03 00:00"), local("2025-03-03 08:00"))
    for n, (at, priority, response, in_evil) in enumerate(INCIDENTS):
        received = local(at)
        incident = await insert_incident(
            db, caller=CALLERS[n], received_at=received, priority=priority,
            district_id=evil if in_evil else plain, team_id=team,
            assigned_at=received + timedelta(seconds=40),
            acknowledged_at=received + timedelta(seconds=70),
            en_route_at=received + timedelta(seconds=120),
            on_scene_at=received + timedelta(seconds=response),
            closed_at=received + timedelta(seconds=3600))
        await insert_assignment(db, team_id=team, incident_id=incident,
                                created_at=received + timedelta(seconds=40),
                                ended_at=received + timedelta(seconds=3600))
    for n, (at, disposition) in enumerate([("2025-03-05 09:00", "incident"),
                                           ("2025-03-06 10:00", "dropped"),
                                           ("2025-03-07 11:00", None)]):
        await insert_call(db, caller=CALLERS[10 + n], received_at=local(at),
                          disposition=disposition)
    return {"team": team}


def _rows(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def _section(rows: list[tuple], title: str) -> list[tuple]:
    """The rows of a Ringkasan table under its header row, up to the blank row."""
    start = next(i for i, row in enumerate(rows) if row[0] == title and row[1] == "count")
    section = []
    for row in rows[start + 1:]:
        if all(value is None for value in row):
            break
        section.append(row)
    return section


def _same(csv_value: str, cell: object, column: str) -> bool:
    """A CSV value (UTC text) and the workbook's cell (local date-time, number...)."""
    if csv_value == "":
        return cell is None
    if column.endswith("_at"):
        moment = datetime.fromisoformat(csv_value.replace("Z", "+00:00"))
        local_time = moment.astimezone(WITA).replace(tzinfo=None)
        return abs((cell - local_time).total_seconds()) < 0.001
    if isinstance(cell, bool):
        return csv_value == str(cell)
    if isinstance(cell, int | float):
        return float(csv_value) == pytest.approx(cell)
    return csv_value == cell


async def test_workbook_holds_the_csv_log_and_the_summaries(
        api: Api, db: asyncpg.Connection) -> None:
    await _data(api, db)
    response = await api.get(f"/api/v1/reports/response-times.xlsx?{MONTH}",
                             role="health_office")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    export = await api.get(f"/api/v1/reports/response-times.csv?{MONTH}", role="health_office")
    assert response.headers["content-disposition"] == \
        export.headers["content-disposition"].replace(".csv", ".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == SHEETS

    # Log: the CSV's header, rows and values (times local in the workbook).
    table = list(csv.reader(io.StringIO(export.text)))
    log = _rows(book["Log"])
    assert list(log[0]) == table[0]
    assert [row[0] for row in log[1:]] == [int(row[0]) for row in table[1:]]
    assert len(log) == len(INCIDENTS) + 1
    for csv_row, row in zip(table[1:], log[1:], strict=True):
        for column, csv_value, cell in zip(table[0], csv_row, row, strict=True):
            assert _same(csv_value, cell, column), (column, csv_value, cell)
    received = log[1][table[0].index("received_at")]
    assert received == datetime(2025, 3, 3, 0, 30)  # local time, 16:30Z the day before

    # The "=" district is text, neutralised, in the log and the summary; no formula
    # anywhere in the workbook.
    district = table[0].index("district")
    assert {row[district] for row in log[1:]} == {"'" + EVIL, "Soreang"}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
                assert not (isinstance(cell.value, str) and cell.value.startswith("=")), \
                    (sheet.title, cell.coordinate, cell.value)

    summary = _rows(book["Ringkasan"])
    assert summary[0] == ("from", datetime(2025, 3, 1)) + (None,) * (len(summary[0]) - 2)
    assert {row[0] for row in _section(summary, "kecamatan")} == {"'" + EVIL, "Soreang"}
    header = next(row for row in summary if row[0] == "priority")
    first = dict(zip(header, _section(summary, "priority")[0], strict=True))
    responses = [seconds for _, priority, seconds, _ in INCIDENTS if priority == 1]
    assert first["priority"] == "1" and first["count"] == len(responses)
    assert first["response_p50_s"] == pytest.approx(numpy.percentile(responses, 50), abs=0.05)
    assert first["response_p90_s"] == pytest.approx(numpy.percentile(responses, 90), abs=0.05)
    assert first["response_max_s"] == max(responses)
    assert first["response_within_target"] == pytest.approx(
        sum(s <= 900 for s in responses) / len(responses), abs=1e-4)
    assert first["dispatch_p50_s"] == pytest.approx(40)
    total = dict(zip(header, _section(summary, "all")[0], strict=True))
    assert total["count"] == len(INCIDENTS)
    assert len(_section(summary, "month")) == 1 and len(_section(summary, "team")) == 1

    fractiles = _rows(book["Fraktil"])
    everything = [seconds for _, _, seconds, _ in INCIDENTS]
    assert fractiles[0] == ("minutes", "count", "share") and len(fractiles) == 31
    for minutes, count, share in fractiles[1:]:
        within = sum(1 for s in everything if s <= minutes * 60)
        assert (count, share) == (within, pytest.approx(within / len(everything), abs=1e-4))

    workload = _rows(book["Beban kerja"])
    team = next(row for row in workload if row[0] == "X1")
    busy = 480 - 40 + 3600 - 480  # 00:30:40-01:30 local, inside the 00-08 shift
    assert team[1:6] == ("als", len(INCIDENTS), pytest.approx(busy), 8 * 3600,
                         pytest.approx(busy / (8 * 3600), abs=1e-4))

    calls = _rows(book["Panggilan"])
    assert calls[0][:2] == ("total", 3)
    assert next(row for row in calls if row[0] == "open")[1:3] == (1, pytest.approx(1 / 3,
                                                                                   abs=1e-4))


async def test_no_caller_number_in_any_byte(api: Api, db: asyncpg.Connection) -> None:
    await _data(api, db)
    response = await api.get(f"/api/v1/reports/response-times.xlsx?{MONTH}", role="admin")
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        texts = [archive.read(name) for name in archive.namelist()]
    assert any(b"Soreang" in text for text in texts)  # the search does find text
    for number in CALLERS:
        digits = number[3:].encode()
        assert digits not in response.content
        assert all(digits not in text for text in texts)


async def test_empty_period_gives_a_workbook_with_headers_only(api: Api) -> None:
    response = await api.get("/api/v1/reports/response-times.xlsx?from=2024-02-01&to=2024-02-02",
                             role="admin")
    assert response.status_code == 200, response.text
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == SHEETS
    assert len(_rows(book["Log"])) == 1
    assert _rows(book["Ringkasan"])[1][1] == datetime(2024, 2, 3)  # `to` is excluded
    assert datetime.now(UTC).year >= 2025
