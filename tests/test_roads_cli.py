"""`dispatch112 roads import` and `roads check`: the graph built and cached beside the
extract, its size and pieces, and the teams' bases the roads cannot serve."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dispatch.config import Settings, SettingsError
from routing.roads import cache_path
from tests.roads_support import place
from tests.support import Api
from tests.test_roads import GRID, ISLAND, draw_city


def _roads(dsn: str | None, *args: str, router: str | None = None
           ) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "DISPATCH112_ROUTER")}
    env.update({"DATABASE_URL": dsn} if dsn else {})
    env.update({"DISPATCH112_ROUTER": router} if router else {})
    return subprocess.run([sys.executable, "-m", "dispatch.cli", "roads", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_import_builds_and_caches_the_graph(tmp_path: Path) -> None:
    extract = draw_city().write(tmp_path / "city.osm.pbf")
    done = _roads(None, "import", str(extract))
    assert done.returncode == 0, done.stderr
    assert "nodes 69" in done.stdout and "connected pieces 2" in done.stdout
    assert f"DISPATCH112_ROUTER=osm:{extract.resolve()}" in done.stdout
    assert cache_path(extract).is_file()
    # The setting alone names the extract.
    again = _roads(None, "import", router=f"osm:{extract}")
    assert again.returncode == 0 and "nodes 69" in again.stdout
    missing = _roads(None, "import", str(tmp_path / "nowhere.osm.pbf"))
    assert missing.returncode == 2 and "no such OpenStreetMap extract" in missing.stderr
    unset = _roads(None, "import")
    assert unset.returncode == 2 and "DISPATCH112_ROUTER=osm:PATH" in unset.stderr


async def test_check_names_the_bases_the_roads_cannot_serve(tmp_path: Path, api: Api,
                                                            dsn: str) -> None:
    extract = draw_city().write(tmp_path / "city.osm")
    await api.team("CITY", *place(200, 200, GRID))
    good = _roads(dsn, "check", str(extract))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "bases: 1 of 1 on the city's roads" in good.stdout
    await api.team("ISLE", *place(0, 250, ISLAND))
    await api.team("SEA", *place(0, -5000, GRID))
    bad = _roads(dsn, "check", str(extract))
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "bases: 1 of 3 on the city's roads" in bad.stdout
    assert "team ISLE" in bad.stdout and "cut off from the city's network" in bad.stdout
    assert "team SEA" in bad.stdout and "no road within 1000 m" in bad.stdout


def test_a_router_setting_that_names_no_router_stops_every_command() -> None:
    for bad in ("roads", "osm:", "osrm:ftp://example", "osrm:"):
        with pytest.raises(SettingsError, match="DISPATCH112_ROUTER"):
            Settings.from_env({"DISPATCH112_ROUTER": bad})
    for good in ("geodesic", "osm:/srv/city.osm.pbf", "osrm:http://127.0.0.1:5000"):
        assert Settings.from_env({"DISPATCH112_ROUTER": good}).router == good
    refused = _roads(None, "import", router="tomtom")
    assert refused.returncode == 2 and "unknown router 'tomtom'" in refused.stderr
