"""City packs shipped inside the package: a city's kecamatan and kelurahan boundaries
(with population) and its health facilities, ready to load with `dispatch112 city load`.

A pack is a folder `dispatch/cities/NAME/` holding:

    city.json          the city's name, its kecamatan codes, the sources the build reads
    kecamatan.geojson  kecamatan polygons: code, name, level, population
    kelurahan.geojson  kelurahan polygons: code, name, kecamatan, level, population
    facilities.csv     name, kind, address, kecamatan, lat, lon, position (ok | doubtful)
    README.md          where every file comes from and under which licence
    sources/           the files the two GeoJSON files are derived from

kecamatan.geojson and kelurahan.geojson are written by `python -m dispatch.cities.build`
(see dispatch/cities/build.py); this module only reads packs, it needs no shapely.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

DEFAULT_PACK = "parepare"
LEVELS = ("kecamatan", "kelurahan")


class CityPackError(ValueError):
    """A pack is missing or one of its files cannot be used; the message says why."""


@dataclass(frozen=True)
class Area:
    """A kecamatan or kelurahan: a GeoJSON Polygon/MultiPolygon with its census population."""

    code: str
    name: str
    level: str
    population: int | None
    geometry: dict


@dataclass(frozen=True)
class Facility:
    """A health facility; `doubtful` when its recorded position is known to be suspect."""

    name: str
    kind: str
    address: str
    kecamatan: str
    lat: float
    lon: float
    doubtful: bool


@dataclass(frozen=True)
class CityPack:
    key: str
    name: str
    kecamatan: list[Area]
    kelurahan: list[Area]
    facilities: list[Facility]


def _packs_root() -> Traversable:
    return resources.files(__name__)


def pack_names() -> list[str]:
    """The packs shipped with this installation (folders holding a city.json), sorted."""
    return sorted(entry.name for entry in _packs_root().iterdir()
                  if entry.is_dir() and entry.joinpath("city.json").is_file())


def pack_dir(key: str) -> Traversable:
    """The folder of pack `key`; CityPackError when no such pack is shipped."""
    if key not in pack_names():
        raise CityPackError(f"no city pack {key!r}; shipped: {', '.join(pack_names())}")
    return _packs_root().joinpath(key)


def read_manifest(key: str) -> dict:
    """The parsed city.json of pack `key`."""
    return json.loads(pack_dir(key).joinpath("city.json").read_text(encoding="utf-8"))


def load_pack(key: str = DEFAULT_PACK) -> CityPack:
    """Read pack `key`: its kecamatan, kelurahan and facilities, in file order."""
    folder = pack_dir(key)
    return CityPack(key=key, name=read_manifest(key)["name"],
                    kecamatan=_read_areas(folder.joinpath("kecamatan.geojson"), "kecamatan"),
                    kelurahan=_read_areas(folder.joinpath("kelurahan.geojson"), "kelurahan"),
                    facilities=_read_facilities(folder.joinpath("facilities.csv")))


def _read_areas(file: Traversable, level: str) -> list[Area]:
    try:
        features = json.loads(file.read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError) as exc:
        raise CityPackError(f"cannot read {file.name}: {exc}") from None
    areas = []
    for feature in features:
        props = feature["properties"]
        if props.get("level") != level:
            raise CityPackError(f"{file.name}: {props.get('name')} is not a {level}")
        areas.append(Area(code=props["code"], name=props["name"], level=level,
                          population=props.get("population"), geometry=feature["geometry"]))
    return areas


def _read_facilities(file: Traversable) -> list[Facility]:
    rows = list(csv.DictReader(io.StringIO(file.read_text(encoding="utf-8"))))
    odd = [row["name"] for row in rows if row["position"] not in ("ok", "doubtful")]
    if odd:
        raise CityPackError(f"{file.name}: position neither ok nor doubtful for {odd}")
    return [Facility(name=row["name"], kind=row["kind"], address=row["address"],
                     kecamatan=row["kecamatan"], lat=float(row["lat"]), lon=float(row["lon"]),
                     doubtful=row["position"] == "doubtful") for row in rows]
