"""The default router's ETAs: the exact geodesic (geopy's, an implementation of its
own) for every team that can be sent first, however many teams there are."""

from __future__ import annotations

import numpy as np

from routing import GeodesicRouter, Position
from routing.geo import geodesic_m


def _exact(router: GeodesicRouter, origin: Position, destination: Position) -> tuple[int, int]:
    metres = geodesic_m(origin, destination) * router.circuity
    return round(metres / router.speed_ms), round(metres)


async def test_the_nearest_teams_get_the_exact_geodesic_eta() -> None:
    rng = np.random.default_rng(11)
    router = GeodesicRouter()
    # A thousand teams over Parepare, and a cluster of bases a few metres apart around
    # the call, where the great circle alone could order them differently.
    spread = np.column_stack([rng.uniform(-4.08, -3.96, 1000), rng.uniform(119.61, 119.73, 1000)])
    for _ in range(30):
        call = Position(rng.uniform(-4.06, -3.98), rng.uniform(119.63, 119.71))
        near = np.column_stack([call.lat + rng.normal(0, 0.004, 20),
                                call.lon + rng.normal(0, 0.004, 20)])
        origins = [Position(*o) for o in np.vstack([spread, near])]
        routes = await router.routes(origins, call)
        best = min(routes, key=lambda r: r.eta_s).eta_s
        winners = [i for i, r in enumerate(routes) if r.eta_s <= best + 5]
        assert winners
        for i in winners:
            assert (routes[i].eta_s, routes[i].distance_m) == _exact(router, origins[i], call)


async def test_every_route_is_within_the_flattening_of_the_geodesic() -> None:
    """Teams that cannot win keep the great circle's distance: within 0.6 %."""
    rng = np.random.default_rng(12)
    router = GeodesicRouter()
    origins = [Position(*o) for o in np.column_stack([rng.uniform(-4.08, -3.96, 300),
                                                      rng.uniform(119.61, 119.73, 300)])]
    call = Position(-4.01, 119.64)
    for origin, route in zip(origins, await router.routes(origins, call), strict=True):
        exact = _exact(router, origin, call)[1]
        assert abs(route.distance_m - exact) <= 0.006 * exact + 1
