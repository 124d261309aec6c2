"""`dispatch112 demo` in a hostile world: it never overwrites a user's password (or a
team's PIN, or a line), and refuses to load beside real data unless forced."""

from __future__ import annotations

import asyncio
import io

import asyncpg
import pytest

from db import teams as teams_db
from dispatch import cli
from dispatch.auth.service import hash_secret, verify_secret
from dispatch.demo import TEAMS, USERS


async def _run(argv: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = await asyncio.to_thread(cli.main, argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
async def empty(db: asyncpg.Connection, dsn: str, monkeypatch: pytest.MonkeyPatch):
    """A database without the tests' own users (real data to the demo); the CLI on it."""
    await db.execute("DELETE FROM users")
    monkeypatch.setenv("DATABASE_URL", dsn)
    return db


async def _hash(db: asyncpg.Connection, username: str) -> str:
    return await db.fetchval("SELECT password_hash FROM users WHERE username = $1", username)


async def test_second_run_keeps_a_changed_password(
        empty: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    code, out, _ = await _run(["demo"], capsys)
    assert code == 0 and "operator / operator-112" in out
    assert await empty.fetchval("SELECT count(*) FROM users WHERE demo") == len(USERS)

    monkeypatch.setattr("sys.stdin", io.StringIO("a-real-secret-1\n"))
    code, _, _ = await _run(["user", "create", "operator", "--role", "operator",
                             "--password-stdin"], capsys)
    assert code == 0

    code, out, err = await _run(["demo"], capsys)
    assert code == 0, err
    assert "kept" in out and "user operator" in out
    assert "operator / (its own password, kept)" in out
    assert "operator-112" not in out
    assert "admin / admin-112" in out  # unchanged: still the demo's, still shown
    stored = await _hash(empty, "operator")
    assert await verify_secret(stored, "a-real-secret-1")
    assert not await verify_secret(stored, "operator-112")
    assert await verify_secret(await _hash(empty, "admin"), "admin-112")


async def test_refuses_beside_a_real_team_unless_forced(
        empty: asyncpg.Connection, capsys: pytest.CaptureFixture) -> None:
    await teams_db.insert_team(empty, code="PKM-X", name="Tim nyata", kind="bls",
                               base_lat=-4.0, base_lon=119.64, base_name="Puskesmas X",
                               pin_hash=await hash_secret("9876"), phone=None)
    code, out, err = await _run(["demo"], capsys)
    assert code != 0
    assert "real data" in err and "1 teams" in err and "--force" in err
    assert await empty.fetchval("SELECT count(*) FROM users") == 0  # nothing loaded
    assert await empty.fetchval("SELECT count(*) FROM teams") == 1

    code, out, err = await _run(["demo", "--force"], capsys)
    assert code == 0, err
    assert "Parepare demo loaded" in out
    real = await empty.fetchrow("SELECT name, demo FROM teams WHERE code = 'PKM-X'")
    assert tuple(real) == ("Tim nyata", False)
    assert await empty.fetchval("SELECT count(*) FROM teams WHERE demo") == 7


async def test_refuses_beside_a_real_user_and_never_overwrites_it(
        db: asyncpg.Connection, dsn: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    """The tests' own users (admin, operator, health_office) are real data."""
    monkeypatch.setenv("DATABASE_URL", dsn)
    before = await _hash(db, "admin")
    code, _, err = await _run(["demo"], capsys)
    assert code != 0 and "3 users" in err
    code, out, err = await _run(["demo", "--force"], capsys)
    assert code == 0, err
    assert await _hash(db, "admin") == before  # the real admin keeps its password
    assert "admin / (its own password, kept)" in out
    assert await db.fetchval("SELECT demo FROM users WHERE username = 'admin'") is False


async def test_incidents_of_demo_users_are_not_real_data(
        empty: asyncpg.Connection, capsys: pytest.CaptureFixture) -> None:
    """Trying the demo out (an incident taken by its operator) does not stop a second
    run; an incident by anyone else does."""
    assert (await _run(["demo"], capsys))[0] == 0
    insert = """INSERT INTO incidents (caller_number, lat, lon, address, complaint, priority,
                                       status, received_at, created_by)
                VALUES ('0812', -4.0, 119.64, 'Jl. X', 'sesak', 2, 'queued', now(), $1)"""
    await empty.execute(insert, "user:operator")
    assert (await _run(["demo"], capsys))[0] == 0
    await empty.execute(insert, "user:somebody")
    code, _, err = await _run(["demo"], capsys)
    assert code != 0 and "1 incidents" in err


async def test_each_demo_team_has_a_made_up_sms_number_it_keeps_once_changed(
        empty: asyncpg.Connection, capsys: pytest.CaptureFixture) -> None:
    code, out, _ = await _run(["demo"], capsys)
    assert code == 0 and "SMS +6281200001121" in out
    numbers = dict(await empty.fetch("SELECT code, sms_numbers FROM teams WHERE demo"))
    assert numbers == {team.code: [team.sms_number] for team in TEAMS}
    # Made up in a range no subscriber has (the made-up callers' numbers have none).
    assert all(team.sms_number.startswith("+628120000") for team in TEAMS)
    assert len({team.sms_number for team in TEAMS}) == len(TEAMS)
    # An admin's own numbers stay; a team that lost its numbers gets the demo's again.
    await empty.execute("UPDATE teams SET sms_numbers = '{+6281299990000}' WHERE code = 'LKS'")
    await empty.execute("UPDATE teams SET sms_numbers = '{}' WHERE code = 'LPD'")
    code, _, err = await _run(["demo"], capsys)
    assert code == 0, err
    again = dict(await empty.fetch("SELECT code, sms_numbers FROM teams WHERE demo"))
    assert again["LKS"] == ["+6281299990000"] and again["LPD"] == ["+6281200001124"]
