"""What the SMS say, and what a reply means: Indonesian, in GSM 7-bit characters only
(plain ASCII), within fixed lengths (docs/sms.md lists every text and its limit).

The short code of an incident is its id in Crockford's base 32 (no I, L, O, U: they
read like digits), at least three characters: short to type on a keypad, and read
back with O as 0 and I or L as 1.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from dispatch.vocabulary import SMS_DIGITS

# Two concatenated GSM 7-bit segments (153 characters each): an assignment.
ASSIGNMENT_MAX = 306
# One segment: every other message.
SHORT_MAX = 160
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
READ_AS = {"O": "0", "I": "1", "L": "1"}
PRIORITY_WORDS = {1: "MERAH", 2: "KUNING", 3: "HIJAU"}
STEP_WORDS = {"acknowledge": "TERIMA", "en_route": "BERANGKAT", "on_scene": "TIBA",
              "transporting": "MERUJUK", "at_hospital": "DI RS", "clear": "SELESAI"}
DIGIT_OF = {action: digit for digit, action in SMS_DIGITS.items()}
REPLY_HELP = "Balas 1 terima 2 berangkat 3 tiba 4 rujuk 5 di RS 9 selesai"


def get_short_code(incident_id: int) -> str:
    """The incident's short code: its id in base 32, three characters at least."""
    digits = ""
    while incident_id:
        incident_id, rest = divmod(incident_id, 32)
        digits = ALPHABET[rest] + digits
    return digits.rjust(3, "0")


def read_short_code(code: str) -> int | None:
    """The incident id of a short code as a team typed it; None when it cannot be one."""
    value = 0
    for char in code.upper():
        char = READ_AS.get(char, char)
        if char not in ALPHABET:
            return None
        value = value * 32 + ALPHABET.index(char)
    return value or None


def gsm_text(text: str) -> str:
    """`text` in plain ASCII (accents dropped, other signs replaced), whitespace folded:
    every character then costs one septet and the message stays one encoding."""
    flat = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    flat = "".join(c if c.isprintable() else " " for c in flat)
    return re.sub(r"\s+", " ", flat.replace("`", "'").replace("^", " ")
                  .replace("{", "(").replace("}", ")").replace("[", "(").replace("]", ")")
                  .replace("\\", "/").replace("|", "/").replace("~", "-")).strip()


def _cut(text: str, limit: int) -> str:
    text = gsm_text(text)
    return text if len(text) <= limit else text[:limit - 2].rstrip() + ".."


@dataclass(frozen=True)
class AssignmentCard:
    incident_id: int
    priority: int
    complaint: str
    address: str
    lat: float
    lon: float


def assignment_text(card: AssignmentCard) -> str:
    """The assignment: priority, complaint, address (with its landmark), a map link
    with the coordinates and the short code; at most ASSIGNMENT_MAX characters (the
    complaint and the address are shortened to fit, never the link or the code)."""
    code = get_short_code(card.incident_id)
    head = f"112 TUGAS #{code} P{card.priority} {PRIORITY_WORDS[card.priority]}: "
    link = f" Peta: https://maps.google.com/?q={card.lat:.5f},{card.lon:.5f}"
    tail = f" {REPLY_HELP} + kode, mis. 1 {code}"
    room = ASSIGNMENT_MAX - len(head) - len(link) - len(tail) - len(". .")
    complaint = _cut(card.complaint, room // 3)
    address = _cut(card.address, room - len(complaint))
    return f"{head}{complaint}. {address}.{link}{tail}"


def withdrawal_text(incident_id: int, cancelled: bool) -> str:
    """The end of an assignment the team may still be driving to."""
    code = get_short_code(incident_id)
    if cancelled:
        return (f"112 BATAL #{code}: kejadian dibatalkan. JANGAN berangkat / kembali ke "
                "pos. Tim tersedia lagi.")
    return (f"112 DITARIK #{code}: tugas ini dialihkan ke tim lain. JANGAN berangkat / "
            "kembali ke pos.")


def confirmation_text(incident_id: int, action: str) -> str:
    code = get_short_code(incident_id)
    if action == "clear":
        return f"112 OK #{code}: SELESAI tercatat. Terima kasih, tim tersedia lagi."
    return f"112 OK #{code}: {STEP_WORDS[action]} tercatat."


def already_text(incident_id: int, status_word: str) -> str:
    return f"112 #{get_short_code(incident_id)}: sudah tercatat ({status_word}). Tidak diubah."


def help_text() -> str:
    return f"112: balasan tidak dimengerti. {REPLY_HELP}, mis. 2 atau 2 ABC (kode tugas)."


def no_assignment_text(incident_id: int | None) -> str:
    if incident_id is None:
        return "112: tim Anda tidak punya tugas aktif. Balasan tidak dicatat."
    return (f"112 #{get_short_code(incident_id)}: tugas ini bukan tugas aktif tim Anda "
            "(sudah dialihkan/selesai). Tidak dicatat.")


@dataclass(frozen=True)
class Reply:
    """A reply understood: the step its digit names, and the incident its short code
    names (None: no code, the team's current assignment)."""

    action: str
    incident_id: int | None


def parse_reply(text: str) -> Reply | None:
    """`1`, `1 ABC`, `1ABC`, `1 #ABC`, ` 1. abc ` ...: a reply digit, optionally followed by
    the short code; None when the text is not one."""
    match = re.fullmatch(r"\s*([0-9])[\s.,:;#-]*([0-9A-Za-z]{1,8})?[\s.!]*", text or "")
    if match is None or match.group(1) not in SMS_DIGITS:
        return None
    code = match.group(2)
    incident_id = read_short_code(code) if code else None
    if code and incident_id is None:
        return None
    return Reply(SMS_DIGITS[match.group(1)], incident_id)
