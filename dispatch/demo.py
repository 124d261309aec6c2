"""The Parepare demo: the city pack (kecamatan, kelurahan, health facilities), team
bases, teams (each with a made-up SMS number), shifts, lines and users.

Facts from the city's health office: EKSIS Call Centre 112, teams rotating
from RSUD Andi Makkasau and the puskesmas. Loading it twice changes nothing
but the shifts, which are extended to cover the coming days.

The demo never overwrites: a user, team or line whose name is taken is kept as it is
(a changed password stays changed), and the rows it creates are marked `demo`. It
refuses to load beside real data (db/demo.py: rows it did not make) unless forced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from db import demo as demo_db
from db import teams as teams_db
from db import users as users_db
from dispatch.auth.service import hash_secret, verify_secret
from dispatch.cities import load_pack
from dispatch.cities.loader import do_load_city


@dataclass(frozen=True)
class DemoTeam:
    code: str
    name: str
    kind: str
    base_name: str
    lat: float
    lon: float
    pin: str
    day_only: bool = False

    @property
    def sms_number(self) -> str:
        """The team's made-up SMS number (docs/sms.md): +62 812 0000 and its PIN, in
        no operator's range of real subscribers (the history's callers have no
        leading zeros there), so that nothing real is ever texted."""
        return f"+628120000{self.pin}"


TEAMS = [
    DemoTeam("RSUD-1", "Tim EKSIS 1 RSUD", "als", "RSUD Andi Makkasau", -4.034919, 119.633957,
             "1121"),
    DemoTeam("RSUD-2", "Tim EKSIS 2 RSUD", "als", "RSUD Andi Makkasau", -4.034919, 119.633957,
             "1122"),
    DemoTeam("LKS", "Tim Puskesmas Lakessi", "bls", "Puskesmas Lakessi", -4.005628, 119.628014,
             "1123"),
    DemoTeam("LPD", "Tim Puskesmas Lappadde", "bls", "Puskesmas Lappadde", -3.990952,
             119.656288, "1124"),
    DemoTeam("LMP", "Tim Puskesmas Lompoe", "bls", "Puskesmas Lompoe", -4.034359, 119.679390,
             "1125"),
    DemoTeam("MNM", "Tim Puskesmas Madising Na Mario", "bls", "Puskesmas Madising Na Mario",
             -4.013532, 119.628006, "1126", day_only=True),
    DemoTeam("CMP-R", "Motor Reaksi Cepat Cempae", "motorbike", "Puskesmas Cempae", -4.001474,
             119.632942, "1127", day_only=True),
]

USERS = [("admin", "admin", "admin-112"), ("operator", "operator", "operator-112"),
         ("dinkes", "health_office", "dinkes-112")]

LINES = [("112", "EKSIS Call Centre 112", 0),
         ("+6281100000112", "Nomor cadangan 1 (demo)", 1)]

# Rotating shifts in local time: pagi 07-15, sore 15-23, malam 23-07.
SHIFT_STARTS = (7, 15, 23)
SHIFT_HOURS = 8


def get_shift_windows(now: datetime, tz: str, day_only: bool) -> list[tuple[datetime, datetime]]:
    """Shifts from yesterday to two days ahead; day-only teams work the morning shift."""
    local = now.astimezone(ZoneInfo(tz)).replace(hour=0, minute=0, second=0, microsecond=0)
    windows = []
    for day in range(-1, 3):
        for hour in SHIFT_STARTS[:1] if day_only else SHIFT_STARTS:
            start = local + timedelta(days=day, hours=hour)
            windows.append((start.astimezone(UTC), (start + timedelta(hours=SHIFT_HOURS))
                            .astimezone(UTC)))
    return windows


class DemoRefused(Exception):
    """The database holds real data; the demo loads beside it only when forced."""


@dataclass
class DemoLoad:
    """What a demo load did: the names it created, the ones it found and kept, and
    those of the kept whose password or PIN is no longer the demo's."""

    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)

    def describe(self) -> str:
        if not self.kept:
            return "Parepare demo loaded."
        return ("Parepare demo loaded; found and kept as they were (nothing overwritten): "
                + ", ".join(self.kept) + ".")


async def check_no_real_data(conn: asyncpg.Connection) -> None:
    """Raise DemoRefused when the database holds rows the demo did not make."""
    found = await demo_db.get_real_data(conn)
    real = [f"{count} {kind}" for kind, count in found.items() if count]
    if real:
        raise DemoRefused(
            "the database holds real data (not made by the demo: " + ", ".join(real)
            + "); the demo loads into it only with --force, and never overwrites a user,"
            " team or line that exists")


async def _note(done: DemoLoad, what: str, created: bool, stored_hash: str | None,
                secret: str) -> None:
    if created:
        done.created.append(what)
        return
    done.kept.append(what)
    if not await verify_secret(stored_hash, secret):
        done.changed.add(what)


async def _load_user(conn: asyncpg.Connection, done: DemoLoad, username: str, role: str,
                     password: str) -> None:
    """Create the user unless the name is taken: an existing user keeps its password."""
    created = await demo_db.insert_demo_user(conn, username, await hash_secret(password), role)
    user = await users_db.get_user_by_username(conn, username)
    await _note(done, f"user {username}", created, user["password_hash"], password)


async def _extend_shifts(conn: asyncpg.Connection, team_id: int, team: DemoTeam,
                         tz: str) -> None:
    windows = get_shift_windows(datetime.now(UTC), tz, team.day_only)
    # Every window's start, also those of shifts that ended more than a day ago (a
    # second load in the afternoon made yesterday's morning shift again).
    known = await teams_db.get_shift_starts(conn, team_id, windows[0][0])
    for starts_at, ends_at in windows:
        if starts_at not in known:
            await teams_db.insert_shift(conn, team_id, starts_at, ends_at)


async def _load_team(conn: asyncpg.Connection, done: DemoLoad, team: DemoTeam,
                     tz: str) -> None:
    """Create the team unless its code is taken (an existing team keeps its PIN); extend
    the shifts of the demo's own team, never those of a real team of that code."""
    team_id = await teams_db.insert_team(
        conn, code=team.code, name=team.name, kind=team.kind, base_lat=team.lat,
        base_lon=team.lon, base_name=team.base_name, pin_hash=await hash_secret(team.pin),
        phone=None)
    if team_id is not None:
        await demo_db.mark_demo_team(conn, team_id)
    existing = await teams_db.get_team_login(conn, team.code)
    await _note(done, f"team {team.code}", team_id is not None, existing["pin_hash"], team.pin)
    demo_team_id = await demo_db.get_demo_team_id(conn, team.code)
    if demo_team_id is not None:
        await _extend_shifts(conn, demo_team_id, team, tz)
        await demo_db.fill_demo_team_numbers(conn, demo_team_id, [team.sms_number])


async def do_load_demo(conn: asyncpg.Connection, tz: str, force: bool = False) -> DemoLoad:
    """Load (or refresh) the Parepare demo in the caller's transaction; DemoRefused
    when the database holds real data and not `force`."""
    if not force:
        await check_no_real_data(conn)
    await do_load_city(conn, load_pack("parepare"))
    done = DemoLoad()
    for number, label, priority in LINES:
        created = await demo_db.insert_demo_line(conn, number, label, priority,
                                                 {"kind": "none"})
        (done.created if created else done.kept).append(f"line {number}")
    for username, role, password in USERS:
        await _load_user(conn, done, username, role, password)
    for team in TEAMS:
        await _load_team(conn, done, team, tz)
    return done


def describe_logins(changed: set[str] = frozenset()) -> str:
    """The demo logins; those in `changed` have a password or PIN of their own now."""
    lines = ["Demo logins (change them before real use):"]
    lines += [f"  {role:<13} {username} / "
              + ("(its own password, kept)" if f"user {username}" in changed else password)
              for username, role, password in USERS]
    lines += [f"  team {t.code:<8} PIN "
              + ("(its own PIN, kept)" if f"team {t.code}" in changed else t.pin)
              + f"   ({t.name}; SMS {t.sms_number})" for t in TEAMS]
    return "\n".join(lines)
