"""Which teams have a phone on this instance, as the hub tells the presence check, the
SMS fallback and the cap on positions announced: a team stays connected while any of
its phones is, and is gone once the last one leaves."""

from __future__ import annotations

from realtime.frames import Viewer
from realtime.hub import Hub
from realtime.subscriber import Subscriber


def _phone(team_id: int) -> Subscriber:
    return Subscriber(Viewer("team", team_id), cursor=0)


def test_a_team_is_connected_while_any_of_its_phones_is() -> None:
    hub = Hub(None, "")  # type: ignore[arg-type] - the register of sockets needs no database
    first, second, other = _phone(7), _phone(7), _phone(9)
    desk = Subscriber(Viewer("dispatcher", None, sees_all=True), cursor=0)
    for subscriber in (first, second, other, desk):
        hub.add(subscriber)
    hub.add(first)  # twice: still one socket
    assert sorted(hub.get_team_ids()) == [7, 9]
    hub.remove(first)
    hub.remove(first)  # a socket closed twice (its reader and its writer both end)
    assert sorted(hub.get_team_ids()) == [7, 9]
    hub.remove(second)
    assert hub.get_team_ids() == [9]
    hub.add(first)
    hub.remove(other)
    hub.remove(desk)
    assert hub.get_team_ids() == [7]
