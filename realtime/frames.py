"""Websocket frames of the public contract, and who may see which event."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

STAFF_ROLES = frozenset({"admin", "operator"})
# Close codes (4000-4999 are the application's own).
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_TOO_SLOW = 4408  # the client fell behind; reconnect with last_seq to resume
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_TRY_AGAIN_LATER = 1013  # the database is out of reach; reconnect with last_seq


@dataclass(frozen=True)
class Viewer:
    """Whose socket this is: decides which events it may see."""

    role: str
    team_id: int | None = None

    def may_see(self, team_id: int | None) -> bool:
        """Operators and admins see everything, a responder only its own team's
        events, the health office none (it reads reports, never caller data)."""
        if self.role in STAFF_ROLES:
            return True
        return self.role == "responder" and team_id is not None and team_id == self.team_id

    @property
    def team_filter(self) -> int | None:
        """The team_id a replay query filters on (None: every event)."""
        return None if self.role in STAFF_ROLES else (self.team_id or -1)


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def event_frame(row) -> str:
    """The JSON text of one event row."""
    return json.dumps({"type": "event", "seq": row["seq"], "name": row["name"],
                       "at": _time(row["at"]), "data": row["data"]},
                      ensure_ascii=False, separators=(",", ":"))


def frame(kind: str, **fields) -> str:
    return json.dumps({"type": kind, **fields}, ensure_ascii=False, separators=(",", ":"),
                      default=str)
