"""A planner scenario: the file's fields (docs/planner.md, the contract's "Planner"
section), their defaults, and validation that names every wrong field.

`load_scenario(path)` and `parse_scenario(data)` return a `Scenario` or raise
`ScenarioError` whose `errors` lists `(field, message)` pairs, one per wrong field,
with fields written as paths (`teams[0].base.lat`); never another exception.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dispatch.vocabulary import TEAM_KINDS

# RSUD Andi Makkasau, Parepare's regional hospital: the default hospital.
DEFAULT_HOSPITAL = {"lat": -4.034919, "lon": 119.633957}
PRIORITY_SHARES = {"1": 0.25, "2": 0.45, "3": 0.30}
# Which kinds of team a call needs: "any" ambulance (als or bls), "als" only, or
# "motorbike" (a motorbike first responder may go, as may any ambulance); see
# dispatch/vocabulary.py KINDS_FOR.
REQUIRED_KINDS = ("any", "als", "bls", "motorbike")
MAX_DAYS = 3650
MAX_REPLICATIONS = 1000
MAX_TEAMS = 200
MAX_CALLS_PER_HOUR = 100.0
SHARE_TOLERANCE = 1e-6


class ScenarioError(ValueError):
    """A scenario that cannot be run; `errors` names each wrong field."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Number = Annotated[float, Field(allow_inf_nan=False)]
Minutes = Annotated[float, Field(ge=0, le=24 * 60, allow_inf_nan=False)]


class Position(_Model):
    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class Distribution(_Model):
    """A duration in minutes. `lognormal`: `mean` and `sd` of the time itself (not of
    its logarithm); `exponential`: `mean`; `fixed`: always `mean`."""

    dist: Literal["lognormal", "exponential", "fixed"]
    mean: Minutes
    sd: Minutes = 0.0

    @model_validator(mode="after")
    def _check(self) -> Distribution:
        if self.dist != "fixed" and self.mean <= 0:
            raise ValueError(f"mean must be > 0 for a {self.dist} time")
        if self.dist == "exponential" and self.sd not in (0.0, self.mean):
            raise ValueError("an exponential time has sd = mean; give only mean")
        return self


def _duration(value: Any) -> Any:
    """A bare number is a fixed time (the contract writes `"turnout_min": 1`)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not 0 <= value <= 24 * 60:
            raise ValueError("should be between 0 and 1440 minutes")
        return {"dist": "fixed", "mean": value}
    return value


Duration = Annotated[Distribution, pydantic.BeforeValidator(_duration)]


class Shift(_Model):
    """Daily on-duty hours, local time, from `start` to `end` (an `end` not after
    `start` runs past midnight: 23 to 7)."""

    start: Annotated[float, Field(ge=0, lt=24)]
    end: Annotated[float, Field(ge=0, le=24)]

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            if len(value) != 2:
                raise ValueError("a shift is [start_hour, end_hour]")
            return {"start": value[0], "end": value[1]}
        return value

    @model_validator(mode="after")
    def _check(self) -> Shift:
        if self.start == self.end:
            raise ValueError("start and end are the same hour; a whole day is [0, 24]")
        return self

    def hours(self) -> float:
        """On-duty hours a day."""
        return self.end - self.start if self.end > self.start else 24 - self.start + self.end

    def covers(self, hour: float) -> bool:
        """Whether the local `hour` (0 <= hour < 24) is inside this shift."""
        if self.end > self.start:
            return self.start <= hour < self.end
        return hour >= self.start or hour < self.end


class Team(_Model):
    code: Annotated[str, Field(min_length=1, max_length=32)]
    base: Position
    base_name: Annotated[str, Field(max_length=120)] = ""
    kind: Literal[TEAM_KINDS] = "als"
    shifts: Annotated[list[Shift], Field(min_length=1, max_length=6)] = [
        Shift(start=0, end=24)]


def _router(value: Any) -> Any:
    """`geodesic`, or `osm:PATH`: the road graph of an OpenStreetMap extract that can
    be read (its graph is built or loaded when the scenario runs)."""
    if not isinstance(value, str) or not (value == "geodesic" or value.startswith("osm:")):
        raise ValueError('should be "geodesic" or "osm:PATH" (an OpenStreetMap extract)')
    if value == "osm:":
        raise ValueError("osm: needs the path of an OpenStreetMap extract (osm:PATH)")
    if value.startswith("osm:"):
        path = Path(value.removeprefix("osm:"))
        try:
            with path.open("rb") as extract:
                extract.read(1)
        except OSError as exc:
            raise ValueError(f"cannot read the extract {path}: {exc.strerror or exc}") from None
    return value


class Travel(_Model):
    """How travel times are found: as live allocation finds them. `geodesic` with its
    `speed_kmh` and `circuity`; `osm:PATH` by road (routing/roads/), where the two
    apply to nothing (the road router's own geodesic fallback keeps its defaults, as
    in the live service)."""

    router: Annotated[str, pydantic.AfterValidator(_router)] = "geodesic"
    speed_kmh: Annotated[float, Field(gt=0, le=200, allow_inf_nan=False)] = 40.0
    circuity: Annotated[float, Field(ge=1, le=5, allow_inf_nan=False)] = 1.35


class Demand(_Model):
    """Polygons calls come from, weighted by a numeric property; None: the city's
    kelurahan with their census population."""

    geojson: Annotated[str, Field(min_length=1)]
    weight_property: str = "population"
    name_property: str = "name"


Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0, le=MAX_CALLS_PER_HOUR, allow_inf_nan=False)]


class Scenario(_Model):
    name: Annotated[str, Field(min_length=1, max_length=80)] = "skenario"
    days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 30
    warmup_days: Annotated[int, Field(ge=0, le=365)] = 1
    replications: Annotated[int, Field(ge=2, le=MAX_REPLICATIONS)] = 30
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 1
    target_min: Annotated[float, Field(gt=0, le=240, allow_inf_nan=False)] = 15.0
    calls_per_hour: Rate | None = None
    calls_per_hour_by_hour: Annotated[list[Rate], Field(min_length=24, max_length=24)] | None \
        = None
    calls_per_hour_by_weekday_hour: Annotated[
        list[Annotated[list[Rate], Field(min_length=24, max_length=24)]],
        Field(min_length=7, max_length=7)] | None = None
    priorities: dict[Literal["1", "2", "3"], Share] = PRIORITY_SHARES
    required_kinds: dict[Literal[REQUIRED_KINDS], Share] = {"any": 1.0}
    demand: Demand | None = None
    travel: Travel = Travel()
    call_processing_min: Duration = Distribution(dist="fixed", mean=1)
    turnout_min: Duration = Distribution(dist="fixed", mean=1)
    on_scene_min: Duration = Distribution(dist="lognormal", mean=15, sd=7)
    transport_share: Share = 0.65
    hospital: Position | Annotated[list[Position], Field(min_length=1, max_length=50)] = \
        Position(**DEFAULT_HOSPITAL)
    handover_min: Duration = Distribution(dist="lognormal", mean=15, sd=7)
    teams: Annotated[list[Team], Field(min_length=1, max_length=MAX_TEAMS)]

    @field_validator("priorities", "required_kinds")
    @classmethod
    def _shares(cls, value: dict) -> dict:
        if not math.isclose(sum(value.values()), 1.0, abs_tol=SHARE_TOLERANCE):
            raise ValueError(f"shares must add up to 1, they add up to {sum(value.values()):g}")
        return value

    @field_validator("teams")
    @classmethod
    def _codes(cls, teams: list[Team]) -> list[Team]:
        codes = [team.code for team in teams]
        twice = sorted({code for code in codes if codes.count(code) > 1})
        if twice:
            raise ValueError(f"team codes must differ; repeated: {', '.join(twice)}")
        return teams

    @model_validator(mode="after")
    def _served(self) -> Scenario:
        from dispatch.planner.calls import FITTING_KINDS
        kinds = {team.kind for team in self.teams}
        unserved = [need for need, share in self.required_kinds.items()
                    if share > 0 and not kinds & FITTING_KINDS[need]]
        if unserved:
            raise ValueError(f"no team may answer calls needing {', '.join(unserved)}")
        return self

    @model_validator(mode="after")
    def _one_rate(self) -> Scenario:
        given = [name for name in ("calls_per_hour", "calls_per_hour_by_hour",
                                   "calls_per_hour_by_weekday_hour")
                 if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give one call rate, not {' and '.join(given)}")
        if not any(rate for day in self.rate_table() for rate in day):
            raise ValueError("the call rate is zero at every hour: there is nothing to plan")
        return self

    @property
    def hospitals(self) -> list[Position]:
        return self.hospital if isinstance(self.hospital, list) else [self.hospital]

    def rate_table(self) -> list[list[float]]:
        """Calls per hour for each weekday (Monday first) and local hour: 7 x 24."""
        if self.calls_per_hour_by_weekday_hour is not None:
            return [list(day) for day in self.calls_per_hour_by_weekday_hour]
        if self.calls_per_hour_by_hour is not None:
            return [list(self.calls_per_hour_by_hour) for _ in range(7)]
        rate = 1.0 if self.calls_per_hour is None else self.calls_per_hour
        return [[rate] * 24 for _ in range(7)]


def _path(loc: tuple) -> str:
    """('teams', 0, 'base', 'lat') -> 'teams[0].base.lat' (pydantic's own steps for
    union members and before-validators left out)."""
    out = ""
    for step in loc:
        if isinstance(step, int):
            out += f"[{step}]"
        elif step in ("function-before[_duration(), Distribution]", "list[Position]",
                      "Position", "float", "list[...]") or "[" in str(step):
            continue
        else:
            out += ("." if out else "") + str(step)
    return out or "(scenario)"


DURATIONS = ("call_processing_min", "turnout_min", "on_scene_min", "handover_min")


def _message(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "required"
    if error["type"] in ("model_type", "model_attributes_type", "dict_type"):
        if error["loc"] and error["loc"][0] in DURATIONS:
            return 'should be minutes (a number) or {"dist", "mean", "sd"}'
        return "should be an object {...}"
    return error["msg"].removeprefix("Value error, ")


def _other_branch(error: dict, data: dict) -> bool:
    """An error of the union branch `hospital` was not written as (one object or a
    list), which would only confuse."""
    loc = error["loc"]
    if len(loc) < 2 or loc[0] != "hospital":
        return False
    given_list = isinstance(data.get("hospital"), list)
    return str(loc[1]).startswith("list[") != given_list


def parse_scenario(data: Any, **overrides: Any) -> Scenario:
    """A Scenario from parsed JSON; `overrides` (replications, days, seed: the
    command's options) replace the file's values when not None."""
    if not isinstance(data, dict):
        raise ScenarioError([("(scenario)", "a scenario is a JSON object {...}")])
    data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return Scenario.model_validate(data)
    except pydantic.ValidationError as exc:
        errors: list[tuple[str, str]] = []
        for error in exc.errors():
            if _other_branch(error, data):
                continue
            item = (_path(error["loc"]), _message(error))
            if item not in errors:
                errors.append(item)
        raise ScenarioError(errors) from None


def load_scenario(path: str | Path, defaults: Callable[[dict], dict] | None = None,
                  **overrides: Any) -> Scenario:
    """Read and validate a scenario file (JSON). `defaults(dict)`, when given, returns
    the file's fields over fields of its own (those fitted from history)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([("(file)", f"cannot read {path}: {exc}")]) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ScenarioError([("(file)", f"{path} is not valid JSON: {exc}")]) from None
    if defaults is not None and isinstance(data, dict):
        data = defaults(data)
    data = _beside(data, Path(path).parent)
    return parse_scenario(data, **overrides)


def _beside(data: Any, folder: Path) -> Any:
    """Files named in a scenario file (demand's GeoJSON, the road extract) with a
    relative path are found beside it."""
    if isinstance(data, dict) and isinstance(data.get("travel"), dict):
        router = data["travel"].get("router")
        if isinstance(router, str) and router.startswith("osm:") and len(router) > 4 \
                and not Path(router[4:]).is_absolute():
            data = data | {"travel": data["travel"] | {
                "router": "osm:" + str(folder / router[4:])}}
    if isinstance(data, dict) and isinstance(data.get("demand"), dict):
        geojson = data["demand"].get("geojson")
        if isinstance(geojson, str) and geojson and not Path(geojson).is_absolute():
            data = data | {"demand": data["demand"] | {"geojson": str(folder / geojson)}}
    return data


def scenario_defaults() -> dict:
    """Every field's default but `teams` (and `demand`: the city's kelurahan), as JSON:
    what a form starts from."""
    one = parse_scenario({"teams": [{"code": "X", "base": DEFAULT_HOSPITAL}]})
    return {"calls_per_hour": 1.0} | one.model_dump(mode="json", exclude={"teams"},
                                                    exclude_none=True)
