"""The planner's travel times are live allocation's: the same router class, speed,
circuity and whole-second rounding, and the same ranking rule (routing/ranking.py)."""

from __future__ import annotations

import numpy as np

from routing import GeodesicRouter, Position
from routing.base import Route
from routing.ranking import rank


async def test_eta_matrix_agrees_with_the_live_routes() -> None:
    rng = np.random.default_rng(3)
    router = GeodesicRouter(circuity=1.3, speed_kmh=35)
    origins = np.column_stack([rng.uniform(-4.08, -3.96, 6), rng.uniform(119.61, 119.73, 6)])
    for _ in range(200):
        call = (rng.uniform(-4.08, -3.96), rng.uniform(119.61, 119.73))
        live = await router.routes([Position(*o) for o in origins], Position(*call))
        batch = router.eta_matrix(origins, [call])[:, 0]
        # Both solve the geodesic by Karney's method (pyproj), on the same pairs.
        assert [r.eta_s for r in live] == batch.tolist()


async def test_eta_matrix_on_arrays_agrees_with_the_live_routes() -> None:
    """Many pairs at once, or one at a time: the same answers as the live routes."""
    rng = np.random.default_rng(4)
    router = GeodesicRouter()
    origins = np.column_stack([rng.uniform(-4.08, -3.96, 5), rng.uniform(119.61, 119.73, 5)])
    calls = np.column_stack([rng.uniform(-4.08, -3.96, 300),
                             rng.uniform(119.61, 119.73, 300)])
    matrix = router.eta_matrix(origins, calls)
    assert matrix.shape == (5, 300)
    for k, call in enumerate(calls):
        live = [r.eta_s for r in await router.routes([Position(*o) for o in origins],
                                                     Position(*call))]
        assert live == matrix[:, k].tolist()
        assert live == router.eta_matrix(origins, [call])[:, 0].tolist()


def test_rank_is_nearest_then_fewer_today_then_code() -> None:
    routes = [Route(eta_s=300, distance_m=1), None, *(Route(eta_s=200, distance_m=1)
                                                        for _ in range(3))]
    tiebreaks = [(0, "A"), (0, "B"), (2, "C"), (1, "E"), (1, "D")]
    assert rank(routes, tiebreaks) == [4, 3, 2, 0]
