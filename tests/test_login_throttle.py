"""Logins under attack: bad logins do not starve the pool, throttling is per account
at an address and per address, and holds under concurrent guesses."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import pytest

from dispatch.auth.service import hash_secret
from tests.support import CITY, Api, wait_until

DEVICE = "/api/v1/auth/device"
TOKEN = "/api/v1/auth/token"
PIN = "112100"


def client_from(api: Api, address: str) -> httpx.AsyncClient:
    """A client whose requests come from `address` (any of 127.0.0.0/8 is loopback)."""
    return httpx.AsyncClient(base_url=api.base_url, timeout=60,
                             transport=httpx.AsyncHTTPTransport(local_address=address))


@pytest.mark.settings(pool_max=10, login_address_max_failures=1000)
async def test_bad_logins_do_not_starve_incident_creation(api: Api) -> None:
    await api.team("RSUD-1", *CITY, pin=PIN)
    async with client_from(api, "127.0.0.2") as attacker:
        async def bad_login(i: int) -> int:
            # Every guess at another account: none is refused early, all run argon2.
            body = ({"team_code": f"X{i}", "pin": f"{i:06d}"} if i % 2 else
                    {"username": f"user{i}", "password": f"wrong-{i}"})
            return (await attacker.post(DEVICE if i % 2 else TOKEN, json=body)).status_code

        async def incident() -> tuple[int, float]:
            started = time.monotonic()
            response = await api.incident(*CITY, priority=1)
            return response.status_code, time.monotonic() - started

        storm = [asyncio.create_task(bad_login(i)) for i in range(60)]
        answers = await asyncio.gather(*(incident() for _ in range(5)))
        statuses = await asyncio.gather(*storm)
    for status, took in answers:
        assert status == 201 and took < 10, (status, took)
    assert statuses == [401] * 60, statuses


async def test_lockout_of_one_address_does_not_keep_the_phone_out(
        api: Api, db: asyncpg.Connection) -> None:
    await api.team("RSUD-1", *CITY, pin=PIN)
    async with client_from(api, "127.0.0.2") as attacker, \
            client_from(api, "127.0.0.3") as phone:
        statuses = [(await attacker.post(DEVICE, json={"team_code": "RSUD-1",
                                                       "pin": f"{i:06d}"})).status_code
                    for i in range(20)]
        assert statuses == [401] * 5 + [429] * 15, statuses
        locked = await attacker.post(DEVICE, json={"team_code": "RSUD-1", "pin": PIN})
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        answer = await phone.post(DEVICE, json={"team_code": "RSUD-1", "pin": PIN})
        assert answer.status_code == 200, answer.text


@pytest.mark.settings(login_address_max_failures=8)
async def test_an_address_failing_across_accounts_is_locked_out(api: Api) -> None:
    await api.team("RSUD-1", *CITY, pin=PIN)
    async with client_from(api, "127.0.0.2") as attacker:
        for i in range(8):
            response = await attacker.post(TOKEN, json={"username": f"user{i}",
                                                        "password": "guess"})
            assert response.status_code == 401, (i, response.text)
        # Locked out for every account, even with the right PIN.
        response = await attacker.post(DEVICE, json={"team_code": "RSUD-1", "pin": PIN})
        assert response.status_code == 429
    # An address that logged in successfully gets more slack: the operator's desk
    # (127.0.0.1, logged in here) may fail more than 8 times.
    await api.login_all()
    for i in range(10):
        response = await api.http.post(TOKEN, json={"username": f"user{i}", "password": "x"})
        assert response.status_code == 401, (i, response.text)


async def test_concurrent_guesses_stay_within_the_limit(api: Api,
                                                        db: asyncpg.Connection) -> None:
    await api.team("RSUD-1", *CITY, pin=PIN)
    async with client_from(api, "127.0.0.2") as attacker:
        responses = await asyncio.gather(*(
            attacker.post(DEVICE, json={"team_code": "RSUD-1", "pin": f"{i:06d}"})
            for i in range(20)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [401] * 5 + [429] * 15, statuses
    failures = await db.fetchval("SELECT failures FROM login_failures WHERE key = $1",
                                 "team:rsud-1|127.0.0.2")
    assert failures == 5


@pytest.mark.settings(login_lockout_s=1)
async def test_lockout_grows_with_each_further_failure(api: Api,
                                                       db: asyncpg.Connection) -> None:
    await api.team("RSUD-1", *CITY, pin=PIN)
    async with client_from(api, "127.0.0.2") as attacker:
        async def guess() -> httpx.Response:
            return await attacker.post(DEVICE, json={"team_code": "RSUD-1", "pin": "000000"})
        for _ in range(5):
            assert (await guess()).status_code == 401
        first = await guess()
        assert first.status_code == 429 and int(first.headers["retry-after"]) == 1
        await db.execute("UPDATE login_failures SET last_failure_at = now() - interval '2 s'")
        assert (await guess()).status_code == 401  # the sixth failure: a longer lock
        second = await guess()
        assert second.status_code == 429 and int(second.headers["retry-after"]) == 2


@pytest.mark.settings(prune_every_s=0.2)
async def test_old_throttle_rows_are_pruned(api: Api, db: asyncpg.Connection) -> None:
    await db.execute("""INSERT INTO login_failures (key, failures, last_failure_at)
                        VALUES ('team:old|10.0.0.1', 3, now() - interval '3 days')""")
    await db.execute("""INSERT INTO login_successes (address, last_success_at)
                        VALUES ('10.0.0.1', now() - interval '3 days')""")
    await wait_until(lambda: db.fetchval(
        """SELECT NOT EXISTS (SELECT 1 FROM login_failures WHERE key = 'team:old|10.0.0.1')
              AND NOT EXISTS (SELECT 1 FROM login_successes WHERE address = '10.0.0.1')"""),
        what="old throttle rows pruned")


async def test_four_digit_pins_of_existing_teams_keep_working(
        api: Api, db: asyncpg.Connection) -> None:
    team = await api.team("OLD", *CITY, pin=PIN)
    await db.execute("UPDATE teams SET pin_hash = $2 WHERE id = $1", team["id"],
                     await hash_secret("1121"))
    response = await api.http.post(DEVICE, json={"team_code": "OLD", "pin": "1121"})
    assert response.status_code == 200, response.text
    short = await api.post("/api/v1/teams", {"code": "NEW", "name": "Tim", "kind": "bls",
                                             "base": {"lat": CITY[0], "lon": CITY[1]},
                                             "pin": "1234"})
    assert short.status_code == 422
