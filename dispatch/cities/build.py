"""Derive a city pack's kelurahan.geojson and kecamatan.geojson from its sources.

    python -m dispatch.cities.build [NAME ...]      (default: every pack)

Run it from a source checkout after changing a pack's sources/ or city.json; it
rewrites the two files in dispatch/cities/NAME/ and tests/test_city_pack.py checks
that the shipped files are what it derives. Steps:

1. Every kelurahan polygon of the boundary source keeps its geometry as it is and gets
   `code`, `name`, `kecamatan` (from its code's first three parts: 73.72.01.1004 lies
   in 73.72.01, named in city.json's `kecamatan_codes`), `level` and `population`.
2. Population: each census row is matched to one kelurahan by `normalise_name` (the
   census and the boundaries use different code systems), and the census row's
   kecamatan must agree. A row or a kelurahan left without a partner stops the build.
3. Each kecamatan is the union of its kelurahan, grown and shrunk again by
   SLIVER_DEG so that the slivers between neighbouring kelurahan polygons close;
   coordinates are rounded to 7 decimals (about 1 cm). Its population is the sum.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from dispatch.cities import CityPackError, pack_names

PACKS_DIR = Path(__file__).resolve().parent
# About 5.5 m: closes the gaps between kelurahan polygons drawn separately (the widest
# in Parepare's source are a few metres), too little to change a boundary visibly.
SLIVER_DEG = 5e-5
DECIMALS = 7


def normalise_name(name: str) -> str:
    """The key names are matched by: letters only, upper case, doubled letters made
    single ("WATTANG BACUKIKI" and "Watang Bacukiki" give "WATANGBACUKIKI",
    "CAPPAGALUNG" and "Cappa Galung" give "CAPAGALUNG")."""
    letters = re.sub(r"[^A-Z]", "", name.upper())
    return re.sub(r"(.)\1+", r"\1", letters)


def kecamatan_code(kelurahan_code: str) -> str:
    """The kecamatan part of a Kemendagri kelurahan code: 73.72.01.1004 -> 73.72.01."""
    return ".".join(kelurahan_code.split(".")[:3])


def read_census(text: str, spec: dict) -> list[tuple[str, str, int]]:
    """(kecamatan, kelurahan, population) of every row of a census CSV; `spec` names
    the columns (city.json `sources.population`)."""
    rows = csv.DictReader(io.StringIO(text))
    return [(row[spec["kecamatan_column"]], row[spec["name_column"]],
             int(row[spec["count_column"]])) for row in rows]


def match_population(kelurahan: dict[str, tuple[str, str]],
                     census: list[tuple[str, str, int]]) -> dict[str, int]:
    """Population by kelurahan code. `kelurahan` maps code -> (name, kecamatan name).

    Every census row must match exactly one kelurahan by normalised name, within the
    same kecamatan, and every kelurahan exactly one row; CityPackError lists the rest.
    """
    by_key = {normalise_name(name): code for code, (name, _) in kelurahan.items()}
    if len(by_key) != len(kelurahan):
        raise CityPackError("two kelurahan share a normalised name")
    found: dict[str, int] = {}
    problems = []
    for kecamatan, name, population in census:
        code = by_key.get(normalise_name(name))
        if code is None:
            problems.append(f"census row {name!r} matches no kelurahan")
        elif normalise_name(kelurahan[code][1]) != normalise_name(kecamatan):
            problems.append(f"census row {name!r} is in {kecamatan}, the boundaries "
                            f"put it in {kelurahan[code][1]}")
        elif code in found:
            problems.append(f"census row {name!r} matches {code} a second time")
        else:
            found[code] = population
    problems += [f"kelurahan {name!r} ({code}) has no census row"
                 for code, (name, _) in kelurahan.items() if code not in found]
    if problems:
        raise CityPackError("; ".join(problems))
    return found


def dissolve(polygons: list[BaseGeometry]) -> BaseGeometry:
    """One (Multi)Polygon covering `polygons`, slivers narrower than 2*SLIVER_DEG closed."""
    grown = shapely.unary_union([p.buffer(SLIVER_DEG, join_style="mitre") for p in polygons])
    shrunk = grown.buffer(-SLIVER_DEG, join_style="mitre")
    return shapely.set_precision(shrunk, 10 ** -DECIMALS)


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, DECIMALS)
    if isinstance(value, list | tuple):
        return [_rounded(item) for item in value]
    return value


def _feature(props: dict, geometry: dict) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def kelurahan_features(source: list[dict], spec: dict, names: dict[str, str],
                       census: list[tuple[str, str, int]]) -> list[dict]:
    """The kelurahan features of the pack, sorted by code (see the module's step 1-2)."""
    kelurahan = {}
    for feature in source:
        props = feature["properties"]
        code = props[spec["code_property"]]
        if kecamatan_code(code) not in names:
            raise CityPackError(f"kelurahan {code}: kecamatan not in city.json")
        kelurahan[code] = (props[spec["name_property"]], names[kecamatan_code(code)])
    population = match_population(kelurahan, census)
    geometries = {f["properties"][spec["code_property"]]: f["geometry"] for f in source}
    return [_feature({"code": code, "name": name, "kecamatan": kecamatan,
                      "level": "kelurahan", "population": population[code]}, geometries[code])
            for code, (name, kecamatan) in sorted(kelurahan.items())]


def kecamatan_features(kelurahan: list[dict], names: dict[str, str]) -> list[dict]:
    """One feature per kecamatan code, sorted by code (see the module's step 3)."""
    features = []
    for code, name in sorted(names.items()):
        members = [f for f in kelurahan if kecamatan_code(f["properties"]["code"]) == code]
        if not members:
            raise CityPackError(f"kecamatan {code} {name} has no kelurahan")
        geometry = dissolve([shape(f["geometry"]) for f in members])
        props = {"code": code, "name": name, "level": "kecamatan",
                 "population": sum(f["properties"]["population"] for f in members),
                 "kelurahan": len(members)}
        features.append(_feature(props, _rounded(mapping(geometry))))
    return features


def derive(key: str, folder: Path | None = None) -> dict[str, dict]:
    """{file name: FeatureCollection} of the derived files of pack `key`, read from
    `folder` (default: the pack's folder in this source tree)."""
    folder = folder or PACKS_DIR / key
    manifest = json.loads((folder / "city.json").read_text(encoding="utf-8"))
    names, sources = manifest["kecamatan_codes"], manifest["sources"]
    boundary = json.loads((folder / sources["kelurahan"]["file"]).read_text(encoding="utf-8"))
    census = read_census((folder / sources["population"]["file"]).read_text(encoding="utf-8"),
                         sources["population"])
    kelurahan = kelurahan_features(boundary["features"], sources["kelurahan"], names, census)
    kecamatan = kecamatan_features(kelurahan, names)
    return {"kelurahan.geojson": _collection(kelurahan),
            "kecamatan.geojson": _collection(kecamatan)}


def _collection(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def write(key: str, documents: dict[str, dict], folder: Path | None = None) -> list[Path]:
    """Write the derived files (one feature per line, so that diffs stay readable)."""
    folder = folder or PACKS_DIR / key
    written = []
    for file_name, document in documents.items():
        lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":"))
                 for f in document["features"]]
        path = folder / file_name
        path.write_text('{"type":"FeatureCollection","features":[\n' + ",\n".join(lines)
                        + "\n]}\n", encoding="utf-8")
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    keys = list(argv if argv is not None else sys.argv[1:]) or pack_names()
    try:
        for key in keys:
            for path in write(key, derive(key)):
                print(f"wrote {path}")
    except CityPackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
