"""Advanced Mobile Location (issue 12): the ETSI TS 103 625 SMS and the Android ELS
form are parsed or refused (examples, every truncation, hypothesis fuzzing, never a
500); a position reaches the open call from the same number and the operator's
socket; the handset's IMSI and IMEI are in no table and no log line."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.aml.parser import AmlFix, AmlRefused, parse_els, parse_sms
from realtime.client import EventClient
from tests.calls_support import TABLES, check_problem, fingerprint, login_gateway, open_call
from tests.support import Api, ws_url

IMSI, IMEI = "510101234567891", "356708041746734"
NUMBER, E164 = "081234567890", "+6281234567890"
AML_ON = pytest.mark.settings(aml_enabled=True)


def sms(lt: str = "-4.01050", lg: str = "+119.62620", *, top: str | None = None,
        pm: str = "G", rd: str = "15", lc: str = "68", prefix: str = 'A"ML=1',
        ml: int | None = None) -> str:
    """An AML SMS as a handset sends it, `ml` its own length unless given."""
    top = top or datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    body = (f"{prefix};lt={lt};lg={lg};rd={rd};top={top};lc={lc};pm={pm};si={IMSI};"
            f"ei={IMEI};mcc=510;mnc=10;ml=")
    return body + str(ml) if ml is not None else _fixed_length(body)


# Published examples of the ETSI form: Google's ELS SMS specification (a position by
# Wi-Fi, whose ml says 126 for 127 characters, and a handset that found none).
GOOGLE = ('A"ML=1;lt=+51.53321;lg=-0.12601;rd=14;top=20220131171748;lc=68;pm=W;'
          'si=234159000000000;ei=123456789012345;mcc=234;mnc=15;ml=126')
NO_POSITION = ('A"ML=1;lt=+00.00000;lg=+000.00000;rd=N;top=20220131173734;lc=0;pm=N;'
               'si=234159000000000;ei=123456789012345;mcc=234;mnc=15;ml=127')
# Messages of the same form (positions of the ETSI and EENA material), their ml fixed.
ETSI = ['A"ML=1;lt=+55.74317;lg=+013.45516;rd=50;top=20191031115303;lc=90;pm=G;'
        'si=234302543446355;ei=356708041746734;mcc=234;mnc=30;ml=128',
        'A"ML=1;lt=+55.74317;lg=+013.45516;rd=50;top=20191031115303;lc=90;pm=W;'
        'si=234302543446355;ei=356708041746734;mcc=234;mnc=30;ml=128',
        'A"ML=1;lt=-33.86785;lg=+151.20732;rd=1500;top=20191031115303;lc=68;pm=C;'
        'si=505013456789012;ei=356708041746734;mcc=505;mnc=01;ml=130']


def _fixed_length(text: str) -> str:
    """`text` with its ml corrected to its own length (which counts its own digits)."""
    head = text.rsplit("ml=", 1)[0] + "ml="
    return head + str(len(head) + len(str(len(head) + 3)))


# --- the parser -------------------------------------------------------------------------

def test_published_examples() -> None:
    fix = parse_sms(GOOGLE)
    assert (fix.lat, fix.lon, fix.radius_m, fix.confidence, fix.method) == \
        (51.53321, -0.12601, 14.0, 68, "wifi")
    assert fix.at == datetime(2022, 1, 31, 17, 17, 48, tzinfo=UTC)
    with pytest.raises(AmlRefused, match="no position"):
        parse_sms(NO_POSITION)


def test_etsi_examples_are_parsed() -> None:
    fixes = [parse_sms(_fixed_length(text)) for text in ETSI]
    assert [(f.lat, f.lon, f.radius_m, f.confidence, f.method) for f in fixes] == [
        (55.74317, 13.45516, 50.0, 90, "gnss"), (55.74317, 13.45516, 50.0, 90, "wifi"),
        (-33.86785, 151.20732, 1500.0, 68, "cell")]
    assert fixes[0].at == datetime(2019, 10, 31, 11, 53, 3, tzinfo=UTC)
    assert "si" not in repr(fixes[0]) and IMEI not in repr(fixes) and "234302543446355" \
        not in repr(fixes)
    assert parse_sms(sms(prefix="AML=1")).lat == -4.0105  # a gateway that drops the quote


def test_every_truncation_is_refused() -> None:
    for text in (GOOGLE, *map(_fixed_length, ETSI), sms()):
        assert parse_sms(text)
        for cut in range(len(text)):
            with pytest.raises(AmlRefused):
                parse_sms(text[:cut])


@pytest.mark.parametrize(("text", "reason"), [
    ("", "not an AML"), ("hello", "not an AML"), ('A"ML=2;lt=1;lg=2;ml=20', "version"),
    (sms(lt="+91.0"), "lt"), (sms(lg="-180.5"), "lg"), (sms(lt="abc"), "lt"),
    (sms(lt="1e5"), "lt"), (sms(lt="", lg="", pm="N"), "no position"),
    (sms(top="20191331115303"), "top"), (sms(top="2019"), "top"),
    (sms(rd="-5"), "radius"), (sms(lc="101"), "confidence"),
    (sms(ml=999), "truncated"), (sms().replace(";mcc=510", "").replace(";ml=", ";ml=9;x="),
                                 "truncated"), (sms().replace(";lc=68", ";lt=1"), "twice"),
    (sms().replace(";pm=G", ";pm"), "key=value"), ("A\"ML=1;" + "x=1;" * 300, "not an AML"),
])
def test_malformed_messages_are_refused(text: str, reason: str) -> None:
    with pytest.raises(AmlRefused, match=reason):
        parse_sms(text)


def test_els_form() -> None:
    millis = int(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp() * 1000)
    fix = parse_els({"location_latitude": "-4.0105", "location_longitude": "119.6262",
                     "location_accuracy": "12.5", "location_time": str(millis),
                     "location_source": "gps", "location_confidence": "0.68",
                     "device_number": NUMBER, "device_imei": IMEI, "device_imsi": IMSI})
    assert fix == AmlFix(-4.0105, 119.6262, 12.5, 68, "gnss",
                         datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), NUMBER)
    # Google's example values; the call's start stands in for a missing fix time.
    fix = parse_els({"v": "1", "emergency_number": "112", "source": "CALL",
                     "time": "1438101600123", "location_latitude": "37.4217845",
                     "location_longitude": "-122.0847413", "location_source": "unknown",
                     "location_accuracy": "20", "location_confidence": "0.6827",
                     "device_number": "+1438101600"})
    assert (fix.lat, fix.lon, fix.radius_m, fix.confidence, fix.method) == \
        (37.4217845, -122.0847413, 20.0, 68, "unknown")
    assert fix.at == datetime.fromtimestamp(1438101600.123, UTC)
    for broken in ({}, {"location_latitude": "-4.0", "location_longitude": "119.6"},
                   {"location_latitude": "x", "location_longitude": "119.6",
                    "location_time": str(millis)},
                   {"location_latitude": "-4", "location_longitude": "119",
                    "location_time": "9" * 16}):
        with pytest.raises(AmlRefused):
            parse_els(broken)


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=300) | st.text(alphabet='A"ML=1;ltgrdopcmsiemn+-.0123456789',
                                       max_size=200))
def test_fuzz_sms_is_parsed_or_refused(text: str) -> None:
    try:
        fix = parse_sms(text)
    except AmlRefused:
        return
    assert -90 <= fix.lat <= 90 and -180 <= fix.lon <= 180


FIELD_VALUES = st.one_of(st.text(max_size=20), st.from_regex(r"[+-]?\d{1,4}(\.\d{1,8})?",
                                                             fullmatch=True))


@settings(max_examples=1000, deadline=None)
@given(st.dictionaries(st.sampled_from([
    "lt", "lg", "rd", "top", "lc", "pm", "si", "ei", "mcc", "mnc", "x"]), FIELD_VALUES))
def test_fuzz_sms_fields_are_parsed_or_refused(fields: dict[str, str]) -> None:
    head = 'A"ML=1;' + "".join(f"{k}={v};" for k, v in fields.items()) + "ml="
    text = head + str(len(head) + len(str(len(head) + 3)))
    try:
        parse_sms(text)
    except AmlRefused:
        pass


@settings(max_examples=1000, deadline=None)
@given(st.dictionaries(st.sampled_from([
    "location_latitude", "location_longitude", "location_accuracy", "location_time",
    "location_source", "location_confidence", "device_number"]), FIELD_VALUES))
def test_fuzz_els_is_parsed_or_refused(form: dict[str, str]) -> None:
    try:
        parse_els(form)
    except AmlRefused:
        pass


# --- through the service ----------------------------------------------------------------

async def _everything_stored(db: asyncpg.Connection) -> str:
    """Every row of every table, as text."""
    tables = [r["tablename"] for r in await db.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    rows = []
    for name in tables:
        rows.append(await db.fetchval(
            f"SELECT coalesce(string_agg(t::text, '|'), '') FROM {name} t"))
    return "\n".join(rows)


@AML_ON
async def test_sms_and_els_reach_the_open_call_and_the_operator(
        api: Api, db: asyncpg.Connection, capsys: pytest.CaptureFixture) -> None:
    await login_gateway(api, db)
    other = await open_call(api, "085299998888")
    call = await open_call(api, NUMBER)
    async with EventClient(ws_url(api.base_url), api.tokens["operator"]) as screen:
        response = await api.post("/api/v1/aml/sms", {"from": NUMBER, "text": sms()},
                                  role="gateway")
        assert response.status_code == 202, response.text
        assert response.json()["call_id"] == call["id"]
        event = await screen.next_event(timeout=30)
        while event["name"] != "call.located":
            event = await screen.next_event(timeout=30)
        assert event["data"]["call_id"] == call["id"]
        assert event["data"]["location"]["radius_m"] == 15.0

    millis = int(datetime.now(UTC).timestamp() * 1000)
    form = {"location_latitude": "-4.0110", "location_longitude": "119.6270",
            "location_accuracy": "8", "location_time": str(millis), "location_source": "wifi",
            "device_number": E164, "device_imei": IMEI, "device_imsi": IMSI, "v": "3"}
    response = await api.call("POST", "/api/v1/aml/els", role="gateway", data=form)
    assert response.status_code == 200 and response.json()["accepted"] is True
    assert response.json()["call_id"] == call["id"]

    detail = (await api.get(f"/api/v1/calls/{call['id']}")).json()
    assert [(a["lat"], a["lon"], a["radius_m"], a["method"], a["transport"])
            for a in sorted(detail["aml"], key=lambda a: a["transport"])] == [
        (-4.011, 119.627, 8.0, "wifi", "els"), (-4.0105, 119.6262, 15.0, "gnss", "sms")]
    assert (await api.get(f"/api/v1/calls/{other['id']}")).json()["aml"] == []

    stored = await _everything_stored(db)
    logged = capsys.readouterr()
    assert "aml.taken" in logged.out + logged.err
    for secret in (IMSI, IMEI):
        assert secret not in stored
        assert secret not in logged.out + logged.err


@AML_ON
async def test_sms_before_the_call_waits_for_it(api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    early = await api.post("/api/v1/aml/sms", {"from": NUMBER, "text": sms()}, role="gateway")
    assert early.status_code == 202 and early.json()["call_id"] is None
    call = await open_call(api, NUMBER)
    assert len((await api.get(f"/api/v1/calls/{call['id']}")).json()["aml"]) == 1
    names = [r["name"] for r in await db.fetch("SELECT name FROM events ORDER BY seq")]
    assert names[-2:] == ["call.created", "call.located"]


@pytest.mark.settings(aml_enabled=True, aml_window_s=60)
async def test_only_an_open_call_within_the_window(api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    old = await open_call(api, NUMBER)
    await db.execute("UPDATE calls SET received_at = now() - interval '61 seconds'")
    ended = await open_call(api, NUMBER)
    assert (await api.post(f"/api/v1/calls/{ended['id']}/end", {"disposition": "info"},
                           role="gateway")).status_code == 200
    response = await api.post("/api/v1/aml/sms", {"from": NUMBER, "text": sms()},
                              role="gateway")
    assert response.json()["call_id"] is None
    assert await db.fetchval("SELECT count(*) FROM aml_locations WHERE call_id IS NULL") == 1
    assert (await api.get(f"/api/v1/calls/{old['id']}")).json()["aml"] == []


@AML_ON
async def test_refused_messages_change_nothing_and_never_fail(
        api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    await open_call(api, NUMBER)
    before = await fingerprint(db)
    stale = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y%m%d%H%M%S")
    for text in (sms()[:-3], sms(lt="+99.0"), sms(top=stale), "Halo, tolong!", ETSI[0]):
        check_problem(await api.post("/api/v1/aml/sms", {"from": NUMBER, "text": text},
                                     role="gateway"), 422, "text")
    check_problem(await api.post("/api/v1/aml/sms", {"from": "abc", "text": sms()},
                                 role="gateway"), 422, "from")
    check_problem(await api.post("/api/v1/aml/sms", {"text": sms()}, role="gateway"), 422,
                  "from")
    rng = random.Random(112)
    for _ in range(100):
        junk = "".join(rng.choice(string.printable + 'A"ML=;') for _ in range(rng.randrange(80)))
        sent = await api.post("/api/v1/aml/sms", {"from": NUMBER, "text": junk or "x"},
                              role="gateway")
        assert sent.status_code == 422, sent.text
        form = {rng.choice(["location_latitude", "location_time", "x"]): junk}
        answer = await api.call("POST", "/api/v1/aml/els", role="gateway", data=form)
        assert answer.status_code == 200 and answer.json()["accepted"] is False
    for content, kind in ((b"\xff\xfe", "application/x-www-form-urlencoded"),
                          (b"a=1&a=2", "application/x-www-form-urlencoded"),
                          (b'{"location_latitude": 1}', "application/json"),
                          (b"x=" + b"9" * 70_000, "application/x-www-form-urlencoded")):
        answer = await api.call("POST", "/api/v1/aml/els", role="gateway", content=content,
                                headers={"Content-Type": kind})
        assert answer.status_code == 200 and answer.json()["accepted"] is False, answer.text
    for role in ("operator", "admin", "health_office"):
        check_problem(await api.post("/api/v1/aml/sms", {"from": NUMBER, "text": sms()},
                                     role=role), 403)
    assert await fingerprint(db) == before


async def test_switched_off_by_default(api: Api, db: asyncpg.Connection) -> None:
    await login_gateway(api, db)
    before = await fingerprint(db)
    check_problem(await api.post("/api/v1/aml/sms", {"from": NUMBER, "text": sms()},
                                 role="gateway"), 404)
    check_problem(await api.call("POST", "/api/v1/aml/els", role="gateway",
                                 data={"location_latitude": "1"}), 404)
    assert await fingerprint(db) == before
    assert "aml_locations" in TABLES
