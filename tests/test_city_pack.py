"""The Parepare city pack shipped in the package: what it holds, that it is what
`python -m dispatch.cities.build` derives from its sources, and `dispatch112 city load`."""

import json
import os
import subprocess
import sys

import pytest
import shapely
from shapely.geometry import Point, shape

from dispatch.cities import CityPackError, load_pack, pack_dir, pack_names, read_manifest
from dispatch.cities.build import PACKS_DIR, derive, match_population, normalise_name, read_census
from dispatch.cities.loader import do_load_city
from dispatch.demo import do_load_demo
from tests.support import Api

# README of the city's data (census 2010, sums per kecamatan of the kelurahan rows).
KECAMATAN_POPULATION = {"Bacukiki": 14_477, "Bacukiki Barat": 39_085, "Ujung": 32_231,
                        "Soreang": 43_469}
# Approximate centroids of the kecamatan (the city's fact sheet).
CENTROIDS = {"Bacukiki": (-4.0380, 119.6780), "Bacukiki Barat": (-4.0432, 119.6334),
             "Ujung": (-3.9941, 119.6519), "Soreang": (-3.9881, 119.6438)}


def _census_rows(key: str = "parepare") -> list[tuple[str, str, int]]:
    spec = read_manifest(key)["sources"]["population"]
    return read_census(pack_dir(key).joinpath(spec["file"]).read_text(encoding="utf-8"), spec)


def _boundary_kelurahan(key: str = "parepare") -> dict[str, tuple[str, str]]:
    """code -> (name, kecamatan) of the pack's boundary source."""
    manifest = read_manifest(key)
    spec, names = manifest["sources"]["kelurahan"], manifest["kecamatan_codes"]
    source = json.loads(pack_dir(key).joinpath(spec["file"]).read_text(encoding="utf-8"))
    return {f["properties"][spec["code_property"]]: (
        f["properties"][spec["name_property"]],
        names[f["properties"][spec["code_property"]][:8]]) for f in source["features"]}


def test_the_pack_is_shipped_and_found() -> None:
    assert "parepare" in pack_names()
    with pytest.raises(CityPackError, match="no city pack"):
        load_pack("atlantis")


def test_names_are_normalised_across_code_systems() -> None:
    assert normalise_name("WATTANG BACUKIKI") == normalise_name("Watang Bacukiki")
    assert normalise_name("CAPPAGALUNG") == normalise_name("Cappa Galung")
    assert normalise_name("LAPADDE") == normalise_name("Lapadde")
    assert normalise_name("Lompoe") != normalise_name("Lemoe")


def test_every_census_row_matches_one_kelurahan() -> None:
    kelurahan, census = _boundary_kelurahan(), _census_rows()
    assert len(kelurahan) == len(census) == 22
    population = match_population(kelurahan, census)
    assert set(population) == set(kelurahan)
    assert sorted(population.values()) == sorted(row[2] for row in census)


def test_an_unmatched_census_row_stops_the_build() -> None:
    census = [row if row[1] != "LEMOE" else (row[0], "LEMOEX", row[2])
              for row in _census_rows()]
    with pytest.raises(CityPackError, match="'LEMOEX' matches no kelurahan.*'Lemoe'"):
        match_population(_boundary_kelurahan(), census)
    wrong_kecamatan = [row if row[1] != "LEMOE" else ("UJUNG", *row[1:])
                       for row in _census_rows()]
    with pytest.raises(CityPackError, match="'LEMOE' is in UJUNG"):
        match_population(_boundary_kelurahan(), wrong_kecamatan)


def test_4_kecamatan_and_22_kelurahan_with_census_population() -> None:
    pack = load_pack("parepare")
    assert pack.name == "Parepare"
    assert len(pack.kelurahan) == 22
    assert all(isinstance(k.population, int) and k.population > 0 for k in pack.kelurahan)
    sums: dict[str, int] = {}
    kelurahan_file = json.loads(pack_dir("parepare").joinpath("kelurahan.geojson").read_text())
    for feature in kelurahan_file["features"]:
        props = feature["properties"]
        sums[props["kecamatan"]] = sums.get(props["kecamatan"], 0) + props["population"]
    assert sums == KECAMATAN_POPULATION
    assert {k.name: k.population for k in pack.kecamatan} == KECAMATAN_POPULATION
    assert sum(KECAMATAN_POPULATION.values()) == 129_262


def test_kecamatan_are_whole_polygons_covering_their_kelurahan() -> None:
    pack = load_pack("parepare")
    for kecamatan in pack.kecamatan:
        polygon = shape(kecamatan.geometry)
        assert polygon.is_valid and polygon.geom_type == "Polygon", kecamatan.name
        assert not polygon.interiors, f"{kecamatan.name} kept a sliver"
        members = [shape(k.geometry) for k in pack.kelurahan
                   if k.code.startswith(kecamatan.code + ".")]
        union = shapely.unary_union(members)
        assert union.difference(polygon).area < 1e-4 * union.area, kecamatan.name
        assert polygon.difference(union).area < 1e-3 * union.area, kecamatan.name
        lat, lon = CENTROIDS[kecamatan.name]
        assert polygon.covers(Point(lon, lat)), kecamatan.name


def test_the_shipped_files_are_what_the_build_derives() -> None:
    derived = derive("parepare", PACKS_DIR / "parepare")
    for file_name, document in derived.items():
        shipped = json.loads((PACKS_DIR / "parepare" / file_name).read_text(encoding="utf-8"))
        assert [f["properties"] for f in shipped["features"]] == \
            [f["properties"] for f in document["features"]], file_name
        for ours, theirs in zip(shipped["features"], document["features"], strict=True):
            difference = shape(ours["geometry"]).symmetric_difference(shape(theirs["geometry"]))
            assert difference.area < 1e-10, (file_name, ours["properties"]["name"])


def test_facilities_with_lumpue_doubtful() -> None:
    facilities = load_pack("parepare").facilities
    names = [f.name for f in facilities]
    assert names[0] == "RSUD Andi Makkasau" and len(names) == 7
    assert sum(name.startswith("Puskesmas ") for name in names) == 6
    assert [f.name for f in facilities if f.doubtful] == ["Puskesmas Lumpue"]


async def _snapshot(db) -> tuple[list, list]:
    districts = await db.fetch("SELECT * FROM districts ORDER BY level, name")
    places = await db.fetch("SELECT * FROM places ORDER BY kind, name")
    return [dict(r) for r in districts], [dict(r) for r in places]


def _city_load(dsn: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dispatch.cli", "city", "load", *args],
                          env={**os.environ, "DATABASE_URL": dsn}, capture_output=True,
                          text=True, timeout=120)


async def test_city_load_twice_changes_nothing(dsn: str, db) -> None:
    first = _city_load(dsn)
    assert first.returncode == 0, first.stderr
    assert "Parepare: 4 kecamatan, 22 kelurahan, 7 facilities" in first.stdout
    after_first = await _snapshot(db)
    counts = await db.fetch("SELECT level, count(*) AS n, sum(population) AS people "
                            "FROM districts GROUP BY level ORDER BY level")
    assert [tuple(r) for r in counts] == [("kecamatan", 4, 129_262),
                                          ("kelurahan", 22, 129_262)]
    kinds = await db.fetch("SELECT kind, count(*) AS n FROM places GROUP BY kind ORDER BY kind")
    assert [tuple(r) for r in kinds] == [("faskes", 7), ("kecamatan", 4), ("kelurahan", 22)]
    second = _city_load(dsn, "parepare")
    assert second.returncode == 0, second.stderr
    assert await _snapshot(db) == after_first
    # The demo loads the same pack: it adds no district and no place.
    async with db.transaction():
        await do_load_demo(db, "Asia/Makassar", force=True)
    assert await _snapshot(db) == after_first
    assert _city_load(dsn, "atlantis").returncode == 2


async def test_points_are_located_in_their_kecamatan(api: Api, db) -> None:
    async with db.transaction():
        await do_load_city(db, load_pack("parepare"))
    await api.team("T", -4.0, 119.64)
    points = [(name, *CENTROIDS[name]) for name in CENTROIDS]
    points += [(f.kecamatan, f.lat, f.lon) for f in load_pack("parepare").facilities]
    for expected, lat, lon in points:
        assert (await api.incident(lat, lon)).json()["district"] == expected, (lat, lon)
    features = (await api.get("/api/v1/districts")).json()["features"]
    levels = [f["properties"]["level"] for f in features]
    assert levels == ["kecamatan"] * 4 + ["kelurahan"] * 22
    soreang = next(f for f in features if f["properties"]["name"] == "Soreang")
    assert soreang["properties"]["population"] == 43_469
    assert soreang["geometry"]["type"] == "Polygon"


async def test_the_gazetteer_finds_kelurahan_and_facilities(api: Api, db) -> None:
    async with db.transaction():
        await do_load_city(db, load_pack("parepare"))
    found = (await api.get("/api/v1/places?q=lompoe")).json()["items"]
    assert [(p["name"], p["kind"]) for p in found] == [("Lompoe", "kelurahan"),
                                                       ("Puskesmas Lompoe", "faskes")]
    found = (await api.get("/api/v1/places?q=bacukiki")).json()["items"]
    assert {(p["name"], p["kind"]) for p in found} >= {("Kecamatan Bacukiki", "kecamatan"),
                                                       ("Watang Bacukiki", "kelurahan")}
    lompoe = shape(next(k.geometry for k in load_pack("parepare").kelurahan
                        if k.name == "Lompoe"))
    place = (await api.get("/api/v1/places?q=lompoe")).json()["items"][0]
    assert lompoe.covers(Point(place["lon"], place["lat"]))
