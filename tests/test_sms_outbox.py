"""The SMS outbox under two instances: each message is claimed in SQL with a lease,
so no two senders send the same one, a sender whose lease ran out cannot mark it
sent, and messages to one number are claimed one at a time, in order."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import asyncpg

from db import sms as sms_db
from db.pool import connect
from tests.sms_support import gateway_stand_in, sms_settings, sms_team
from tests.support import Api, running_service, wait_until

TEAMS = 12


async def test_two_instances_send_each_message_once(dsn: str, db: asyncpg.Connection) -> None:
    async with gateway_stand_in() as gateway:
        settings = sms_settings(dsn, gateway.setting("jasmin"))
        async with running_service(settings) as first, running_service(settings), \
                Api(first, dsn) as api:
            await api.login_all()
            numbers = [f"+62812345{n:05d}" for n in range(TEAMS)]
            for n, number in enumerate(numbers):
                await sms_team(api, f"T{n}", -4.0 - n * 0.002, 119.64, number)
            for n in range(TEAMS):
                response = await api.incident(-4.0 - n * 0.002, 119.64)
                assert response.json()["assignment"] is not None
            await wait_until(lambda: len(gateway.received) >= TEAMS, what="every SMS")
            await wait_until(lambda: db.fetchval(
                "SELECT count(*) = $1 FROM sms_messages WHERE sent_at IS NOT NULL", TEAMS),
                what="every message marked sent")
        assert Counter(r.to for r in gateway.received) == Counter(
            n.lstrip("+") for n in numbers)


async def test_claims_are_disjoint_leases_guard_the_settlement(dsn: str,
                                                               db: asyncpg.Connection) -> None:
    for n in range(10):
        await sms_db.insert_messages(db, numbers=[f"+6281200000{n:03d}"], kind="help",
                                     body=f"pesan {n}", team_id=None)
    # A second message to the first number waits behind the first one.
    await sms_db.insert_messages(db, numbers=["+6281200000000"], kind="help",
                                 body="pesan kedua", team_id=None)
    other = await connect(dsn)
    try:
        claimed = await asyncio.gather(sms_db.claim_due(db, 30, 6),
                                       sms_db.claim_due(other, 30, 6))
    finally:
        await other.close()
    ids = [row["id"] for rows in claimed for row in rows]
    assert len(ids) == len(set(ids)) == 10  # every head once, the second message not yet
    assert "pesan kedua" not in {row["body"] for rows in claimed for row in rows}
    first = next(row for rows in claimed for row in rows if row["body"] == "pesan 0")
    # A sender whose lease was taken over cannot settle the message.
    assert await sms_db.mark_sent(db, first["id"], uuid.uuid4(), None) is None
    assert await sms_db.mark_sent(db, first["id"], first["lease_id"], "gw-1") is not None
    [second] = await sms_db.claim_due(db, 30, 20)
    assert second["body"] == "pesan kedua"
