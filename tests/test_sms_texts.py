"""The SMS texts keep their documented lengths (docs/sms.md) whatever the operator
typed, in plain GSM characters, and a reply is read as docs/sms.md says."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.sms import texts
from dispatch.sms.replies import get_steps_to


@given(st.integers(1, 2**62), st.sampled_from([1, 2, 3]), st.text(max_size=600),
       st.text(max_size=600), st.floats(-90, 90), st.floats(-180, 180))
def test_assignment_fits_two_segments_and_ends_with_its_code(
        incident_id: int, priority: int, complaint: str, address: str, lat: float,
        lon: float) -> None:
    text = texts.assignment_text(texts.AssignmentCard(incident_id, priority, complaint,
                                                      address, lat, lon))
    code = texts.get_short_code(incident_id)
    assert len(text) <= texts.ASSIGNMENT_MAX and text.isascii() and text.isprintable()
    assert text.startswith(f"112 TUGAS #{code} P{priority}") and text.endswith(f"1 {code}")
    assert f"maps.google.com/?q={lat:.5f},{lon:.5f}" in text


@given(st.integers(1, 2**62))
def test_short_texts_fit_one_segment_and_codes_read_back(incident_id: int) -> None:
    code = texts.get_short_code(incident_id)
    assert texts.read_short_code(code) == incident_id
    assert texts.read_short_code(code.lower().replace("0", "o").replace("1", "l")) == incident_id
    short = [texts.withdrawal_text(incident_id, True), texts.withdrawal_text(incident_id, False),
             texts.help_text(), texts.no_assignment_text(incident_id),
             texts.no_assignment_text(None), texts.already_text(incident_id, "BERANGKAT"),
             *(texts.confirmation_text(incident_id, a) for a in texts.STEP_WORDS)]
    assert all(len(t) <= texts.SHORT_MAX and t.isascii() for t in short)


@pytest.mark.parametrize(("text", "action", "incident_id"), [
    ("1", "acknowledge", None), (" 2 ", "en_route", None), ("3 16J", "on_scene", 1234),
    ("4#16j", "transporting", 1234), ("5. 16J", "at_hospital", 1234), ("916J", "clear", 1234),
    ("9 16J!", "clear", 1234)])
def test_replies_read(text: str, action: str, incident_id: int | None) -> None:
    assert texts.parse_reply(text) == texts.Reply(action, incident_id)


@pytest.mark.parametrize("text", ["", "ok", "6", "0", "12 34", "1 16J 2", "terima", "1 16U",
                                  "1 " + "A" * 9, "١"])
def test_garbage_is_not_a_reply(text: str) -> None:
    assert texts.parse_reply(text) is None


@pytest.mark.parametrize(("state", "action", "steps"), [
    ("assigned", "acknowledge", ["acknowledge"]),
    ("assigned", "on_scene", ["acknowledge", "en_route", "on_scene"]),
    ("acknowledged", "clear", ["en_route", "on_scene", "clear"]),
    ("on_scene", "clear", ["clear"]),
    ("on_scene", "at_hospital", ["transporting", "at_hospital"]),
    ("on_scene", "en_route", []), ("at_hospital", "transporting", []), ("closed", "clear", []),
    ("cancelled", "acknowledge", None)])
def test_steps_to_a_digit(state: str, action: str, steps: list[str] | None) -> None:
    assert get_steps_to(state, action) == steps


def test_the_contracts_digits_name_every_button() -> None:
    from dispatch.vocabulary import RESPONDER_ACTIONS, SMS_DIGITS
    assert SMS_DIGITS == {"1": "acknowledge", "2": "en_route", "3": "on_scene",
                          "4": "transporting", "5": "at_hospital", "9": "clear"}
    assert set(SMS_DIGITS.values()) == set(RESPONDER_ACTIONS)
