"""The one rule that ranks teams for an incident, used by live allocation
(dispatch/incidents/allocation.py) and by the planner's simulation
(dispatch/planner/simulate.py): the nearest by ETA wins; ties go to the team with
fewer assignments today, then to the lower code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

NUMPY_FROM = 64


class HasEta(Protocol):
    """A routing.base.Route, or anything else with an ETA in seconds."""

    eta_s: int


def rank(routes: Sequence[HasEta | None], tiebreaks: Sequence[tuple]) -> list[int]:
    """Indices of the origins a route reaches, best first: by `eta_s`, then by each
    origin's `tiebreaks` tuple (for teams: assignments today, code). Origins without
    a route (None: unreachable) are left out."""
    reachable = [i for i, route in enumerate(routes) if route is not None]
    if len(reachable) < NUMPY_FROM:
        return sorted(reachable, key=lambda i: (routes[i].eta_s, *tiebreaks[i]))
    # The same order from numpy's stable lexsort (last key first): a thousand teams in
    # a fraction of the sort's time, on the event loop of every allocation.
    columns = [np.array([tiebreaks[i][k] for i in reachable])
               for k in reversed(range(len(tiebreaks[reachable[0]])))]
    etas = np.array([routes[i].eta_s for i in reachable])
    return np.array(reachable)[np.lexsort((*columns, etas))].tolist()
