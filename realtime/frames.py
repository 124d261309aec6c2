"""Websocket frames of the public contract, and who may see which event."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import orjson

# Close codes (4000-4999 are the application's own).
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_TOO_SLOW = 4408  # the client fell behind; reconnect with last_seq to resume
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_TRY_AGAIN_LATER = 1013  # the database is out of reach; reconnect with last_seq


@dataclass(frozen=True)
class Viewer:
    """Whose socket this is, which decides the events it may see: every event
    (`sees_all`, the dispatch staff), or only those of its own team (a team's phone),
    or none (neither: the health office reads reports, never caller data). The
    application decides which roles see all (dispatch/vocabulary.py)."""

    role: str
    team_id: int | None = None
    sees_all: bool = False

    def may_see(self, team_id: int | None) -> bool:
        if self.sees_all:
            return True
        return team_id is not None and team_id == self.team_id

    @property
    def team_filter(self) -> int | None:
        """The team_id a replay query filters on (None: every event; -1: none)."""
        return None if self.sees_all else (self.team_id or -1)


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def event_frame(row) -> str:
    """The JSON text of one event row: made once per event by the hub and handed as is
    to every socket that may see it (orjson: compact, UTF-8, a few microseconds)."""
    return orjson.dumps({"type": "event", "seq": row["seq"], "name": row["name"],
                         "at": _time(row["at"]), "data": row["data"]},
                        option=orjson.OPT_NON_STR_KEYS).decode()


def hello_frame(token: str | None, last_seq: int | None, *, batch: bool = False,
                names: list[str] | None = None) -> str:
    """A client's hello (docs/api.md): batch frames with `batch`, only the events in
    `names` when given."""
    events = {} if names is None else {"events": names}
    return frame("hello", token=token, last_seq=last_seq, batch=batch, **events)


def frame(kind: str, **fields) -> str:
    """Any other frame (welcome, resync, heartbeat, result, error); values JSON does
    not know (times, decimals) as their str(). Never fails: a result echoes the
    client's own `client_id`, which may be any JSON value, an integer beyond 64 bits
    included (orjson refuses those; the standard library writes them)."""
    value = {"type": kind, **fields}
    try:
        return orjson.dumps(value, default=str,
                            option=orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                            ).decode()
    except TypeError:
        return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
