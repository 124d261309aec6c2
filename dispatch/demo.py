"""The Parepare demo: the city pack (kecamatan, kelurahan, health facilities), team
bases, teams, shifts, lines and users.

Facts from the city's health office: EKSIS Call Centre 112, teams rotating
from RSUD Andi Makkasau and the puskesmas. Loading it twice changes nothing
but the shifts, which are extended to cover the coming days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from db import lines as lines_db
from db import teams as teams_db
from db import users as users_db
from dispatch.auth.service import hash_secret
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


async def _load_team(conn: asyncpg.Connection, team: DemoTeam, tz: str) -> None:
    team_id = await teams_db.insert_team(
        conn, code=team.code, name=team.name, kind=team.kind, base_lat=team.lat,
        base_lon=team.lon, base_name=team.base_name, pin_hash=await hash_secret(team.pin),
        phone=None)
    if team_id is None:
        team_id = (await teams_db.get_team_login(conn, team.code))["id"]
    known = {s["starts_at"] for s in await teams_db.get_shifts(conn, team_id)}
    for starts_at, ends_at in get_shift_windows(datetime.now(UTC), tz, team.day_only):
        if starts_at not in known:
            await teams_db.insert_shift(conn, team_id, starts_at, ends_at)


async def do_load_demo(conn: asyncpg.Connection, tz: str) -> None:
    """Load (or refresh) the Parepare demo in the caller's transaction."""
    await do_load_city(conn, load_pack("parepare"))
    for number, label, priority in LINES:
        await lines_db.upsert_line(conn, number, label, priority, {"kind": "none"})
    for username, role, password in USERS:
        await users_db.upsert_user(conn, username, await hash_secret(password), role)
    for team in TEAMS:
        await _load_team(conn, team, tz)


def describe_logins() -> str:
    lines = ["Demo logins (change them before real use):"]
    lines += [f"  {role:<13} {username} / {password}" for username, role, password in USERS]
    lines += [f"  team {t.code:<8} PIN {t.pin}   ({t.name})" for t in TEAMS]
    return "\n".join(lines)
