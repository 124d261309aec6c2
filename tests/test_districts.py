"""An incident's kecamatan: the imported polygon containing it, else the nearest centroid.
`dispatch112 districts import` reads any GeoJSON: here the shipped city pack's kecamatan,
and small files made by the tests."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from db.districts import upsert_district
from db.pool import create_pool
from dispatch import cities
from dispatch.geo.districts import DistrictIndex
from tests.support import Api, wait_until

PACK_KECAMATAN = Path(cities.__file__).resolve().parent / "parepare" / "kecamatan.geojson"


def _import(dsn: str, path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dispatch.cli", "districts", "import",
                           str(path), *extra], env={**os.environ, "DATABASE_URL": dsn},
                          capture_output=True, text=True, timeout=120)


def _square(lon: float, lat: float, size: float = 0.01) -> dict:
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size],
            [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _write_collection(path: Path, features: list[tuple[dict, dict]]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geometry}
        for props, geometry in features]}))
    return path


async def test_polygon_import_then_locate(api: Api, dsn: str, db) -> None:
    result = _import(dsn, PACK_KECAMATAN)
    assert result.returncode == 0, result.stderr
    assert "imported 4 districts (kecamatan)" in result.stdout
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


async def test_other_name_property_and_the_kelurahan_level(api: Api, dsn: str, tmp_path: Path,
                                                           db) -> None:
    """Features sharing a name are merged; kelurahan are stored but locate no incident."""
    path = _write_collection(tmp_path / "desa.geojson", [
        ({"nmdesa": "LOMPOE", "name": "ignored"}, _square(119.64, -4.03)),
        ({"nmdesa": "LOMPOE"}, _square(119.65, -4.03)),
        ({"nmdesa": "LEMOE"}, _square(119.68, -4.04))])
    result = _import(dsn, path, "--name-property", "nmdesa", "--level", "kelurahan")
    assert result.returncode == 0, result.stderr
    assert "imported 2 districts (kelurahan)" in result.stdout
    rows = await db.fetch("SELECT name, level, centroid_lon FROM districts ORDER BY name")
    assert [(r["name"], r["level"]) for r in rows] == [("Lemoe", "kelurahan"),
                                                       ("Lompoe", "kelurahan")]
    assert abs(rows[1]["centroid_lon"] - 119.65) < 1e-9  # the two squares merged
    await api.team("T", -4.0, 119.64)
    assert (await api.incident(-4.025, 119.645)).json()["district"] is None


def test_bad_file_is_refused_with_a_reason(dsn: str, tmp_path: Path) -> None:
    bad = _write_collection(tmp_path / "bad.geojson", [({}, {"type": "Point",
                                                             "coordinates": [1, 2]})])
    result = _import(dsn, bad)
    assert result.returncode == 2
    assert "no Polygon" in result.stderr
    assert _import(dsn, tmp_path / "missing.geojson").returncode == 2


async def test_a_district_written_elsewhere_takes_effect_at_its_notice(api: Api, db) -> None:
    """The service reads the districts' version only after a notice of a change: a
    district written by another process (here, the test's own connection) locates
    the incidents after it, without restarting the service."""
    await api.team("T", -4.0, 119.64)
    assert (await api.incident(-4.025, 119.645)).json()["district"] is None
    await upsert_district(db, "Lompoe", -4.025, 119.645, _square(119.64, -4.03))

    async def located() -> bool:
        return (await api.incident(-4.025, 119.645)).json()["district"] == "Lompoe"
    await wait_until(located, what="the new district on a new incident", poll_s=0.2)


async def test_the_version_is_read_again_only_after_a_notice(db) -> None:
    """Listening, the index keeps its polygons until told of a change; not listening
    (no notices can arrive), it reads the version before every lookup."""
    index, listening = DistrictIndex(), [True]
    index.watch_with(lambda: listening[0])
    assert (await index.locate_both(db, -4.025, 119.645)).kecamatan_id is None
    district_id = await upsert_district(db, "Lompoe", -4.025, 119.645,
                                        _square(119.64, -4.03))
    assert (await index.locate_both(db, -4.025, 119.645)).kecamatan_id is None
    index.changed()
    assert (await index.locate_both(db, -4.025, 119.645)).kecamatan_id == district_id
    listening[0] = False
    await db.execute("DELETE FROM districts")
    assert (await index.locate_both(db, -4.025, 119.645)).kecamatan_id is None


async def test_lookups_racing_the_first_load_all_wait_for_it(dsn: str, db) -> None:
    """Incidents arriving together at a fresh instance each read the table until one
    read has finished: none locates against polygons not loaded yet."""
    district_id = await upsert_district(db, "Lompoe", -4.025, 119.645,
                                        _square(119.64, -4.03))
    index = DistrictIndex()
    index.watch_with(lambda: True)
    pool = await create_pool(dsn, min_size=4, max_size=4)
    try:
        async def locate() -> int | None:
            async with pool.acquire() as conn:
                return (await index.locate_both(conn, -4.025, 119.645)).kecamatan_id
        assert await asyncio.gather(*(locate() for _ in range(4))) == [district_id] * 4
    finally:
        await pool.close()
