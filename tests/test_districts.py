"""An incident's kecamatan: the imported polygon containing it, else the nearest centroid."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import Api


def _import(dsn: str, path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dispatch.cli", "districts", "import",
                           str(path), *extra], env={**os.environ, "DATABASE_URL": dsn},
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def kecamatan(shared_data: Path) -> Path:
    path = shared_data / "parepare_bps2024_kecamatan.geojson"
    assert path.exists(), f"the city's data is expected at {path}"
    return path


async def test_polygon_import_then_locate(api: Api, dsn: str, kecamatan: Path, db) -> None:
    result = _import(dsn, kecamatan, "--name-property", "nmkec")
    assert result.returncode == 0, result.stderr
    assert "imported 4 districts" in result.stdout
    names = {r["name"] for r in await db.fetch("SELECT name FROM districts")}
    assert names == {"Bacukiki", "Bacukiki Barat", "Ujung", "Soreang"}
    await api.team("T", -4.0, 119.64)
    cases = [((-4.034359, 119.679390), "Bacukiki"),        # Puskesmas Lompoe
             ((-4.034919, 119.633957), "Bacukiki Barat"),  # RSUD Andi Makkasau
             ((-3.990952, 119.656288), "Ujung"),           # Puskesmas Lappadde
             ((-4.005628, 119.628014), "Soreang")]         # Puskesmas Lakessi
    for (lat, lon), expected in cases:
        body = (await api.incident(lat, lon)).json()
        assert body["district"] == expected, (lat, lon)
    # Out at sea, west of the city: no polygon, the nearest centroid decides.
    assert (await api.incident(-4.04, 119.60)).json()["district"] == "Bacukiki Barat"


async def test_kelurahan_file_with_other_name_property(dsn: str, shared_data: Path, db) -> None:
    result = _import(dsn, shared_data / "parepare_bps2024_kelurahan.geojson",
                     "--name-property", "nmdesa")
    assert result.returncode == 0, result.stderr
    assert await db.fetchval("SELECT count(*) FROM districts") == 22


def test_bad_file_is_refused_with_a_reason(dsn: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", '
                   '"properties": {}, "geometry": {"type": "Point", "coordinates": [1, 2]}}]}')
    result = _import(dsn, bad)
    assert result.returncode == 2
    assert "no Polygon" in result.stderr
    assert _import(dsn, tmp_path / "missing.geojson").returncode == 2
