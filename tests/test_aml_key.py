"""The AML endpoints' shared key (DISPATCH112_AML_KEY), for an SMS gateway or HTTPS
receiver without a gateway token: the right key (header or `key=`) is let in, a wrong,
empty, non-ASCII or undecodable one is refused with 401 problem+json and changes
nothing (never a 500), and without a key configured a key is always refused."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
import pytest

from tests.calls_support import check_problem, fingerprint, login_gateway, open_call
from tests.support import Api
from tests.test_aml import NUMBER, sms

KEY = "aml-shared-Key-112"
KEYED = pytest.mark.settings(aml_enabled=True, aml_key=KEY)


def _form() -> dict[str, str]:
    millis = int(datetime.now(UTC).timestamp() * 1000)
    return {"location_latitude": "-4.0110", "location_longitude": "119.6270",
            "location_accuracy": "8", "location_time": str(millis),
            "location_source": "wifi", "device_number": NUMBER}


@KEYED
async def test_the_right_key_in_a_header_or_the_query(api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    call = await open_call(api, NUMBER)
    by_header = await api.post("/api/v1/aml/sms", {"from": NUMBER, "text": sms()}, role=None,
                               headers={"X-AML-Key": KEY})
    assert by_header.status_code == 202, by_header.text
    assert by_header.json()["call_id"] == call["id"]
    by_query = await api.call("POST", "/api/v1/aml/els", role=None, params={"key": KEY},
                              data=_form())
    assert by_query.status_code == 200 and by_query.json()["accepted"] is True, by_query.text
    assert by_query.json()["call_id"] == call["id"]
    actors = await db.fetch("SELECT actor FROM events WHERE name = 'call.located'")
    assert [row["actor"] for row in actors] == ["gateway:aml-key"] * 2
    # A gateway token still works beside the key.
    token = await api.post("/api/v1/aml/sms", {"from": NUMBER, "text": sms()}, role="gateway")
    assert token.status_code == 202, token.text


@KEYED
async def test_wrong_and_strange_keys_are_refused_and_change_nothing(
        api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    await open_call(api, NUMBER)
    before = await fingerprint(db)
    body = {"from": NUMBER, "text": sms()}
    wrong = (KEY[:-1], KEY + "3", "", KEY.upper(), "kunci-rahasia-ü", "🔑" * 40, "x" * 5000)
    for key in wrong:
        check_problem(await api.post("/api/v1/aml/sms", body, role=None,
                                     params={"key": key}), 401)
        check_problem(await api.call("POST", "/api/v1/aml/els", role=None,
                                     params={"key": key}, data=_form()), 401)
    # Raw bytes no client should send: Latin-1 and broken UTF-8 in the header, an
    # escape that is not UTF-8 in the query.
    for raw in (b"kunci-\xe9", b"\xff\xfe" + KEY.encode(), "ü".encode() + KEY.encode()):
        check_problem(await api.post("/api/v1/aml/sms", body, role=None,
                                     headers={"X-AML-Key": raw}), 401)
    for query in ("key=%FF%FE", "key=%C3%28", "key=%00" + KEY, "key=" + KEY + "%00"):
        check_problem(await api.post(f"/api/v1/aml/sms?{query}", body, role=None), 401)
    # A wrong key is refused even beside a valid gateway token: a key, once sent, counts.
    check_problem(await api.post("/api/v1/aml/sms", body, role="gateway",
                                 headers={"X-AML-Key": "wrong"}), 401)
    # No key and no token: 401 as before; an operator's token: 403.
    check_problem(await api.post("/api/v1/aml/sms", body, role=None), 401)
    check_problem(await api.post("/api/v1/aml/sms", body, role="operator"), 403)
    assert await fingerprint(db) == before


@pytest.mark.settings(aml_enabled=True)
async def test_no_key_configured_refuses_every_key(api: Api, db: asyncpg.Connection) -> None:
    before = await fingerprint(db)
    for key in ("", "anything", "kunci-ü"):
        check_problem(await api.post("/api/v1/aml/sms", {"from": NUMBER, "text": sms()},
                                     role=None, params={"key": key}), 401)
    assert await fingerprint(db) == before


@pytest.mark.settings(aml_enabled=True, aml_key="kunci-rahasia-ü")
async def test_a_non_ascii_key_configured_matches_in_the_query(
        api: Api, db: asyncpg.Connection) -> None:
    answer = await api.post("/api/v1/aml/sms", {"from": NUMBER, "text": sms()}, role=None,
                            params={"key": "kunci-rahasia-ü"})
    assert answer.status_code == 202, answer.text
    check_problem(await api.post("/api/v1/aml/sms", {"from": NUMBER, "text": sms()},
                                 role=None, params={"key": "kunci-rahasia-u"}), 401)
