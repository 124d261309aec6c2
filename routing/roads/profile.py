"""The emergency-vehicle profile: which OpenStreetMap ways an ambulance drives, in which
direction, and how fast.

Speeds are what an ambulance averages on a road of that class in an Indonesian city of
Parepare's size (traffic, motorbikes, junctions included), not the legal limit. Where a
way carries `maxspeed`, MAXSPEED_SHARE of it replaces the class's speed (drivers rarely
average the posted limit; OSRM's car profile uses the same idea). Then every speed is
multiplied by EMERGENCY_FACTOR: with lights and siren, traffic gives way and an
ambulance gains roughly 10-30 % on ordinary traffic in urban studies; 1.2 is the middle
of that and errs on the side of a later ETA.

Directions follow OSM's rules: `oneway=yes|true|1` forward only, `oneway=-1|reverse`
backward only, `oneway=no` both; `junction=roundabout|circular` and `highway=motorway`
(and its links) are one way forward unless tagged `oneway=no`. Ambulances keep to
one-way streets here: driving against the flow is the driver's call on the spot, not
the dispatcher's assumption.

Access: the most specific of `emergency`, `motor_vehicle`, `motorcar`, `vehicle`,
`access` that is present decides; `no` (and agricultural, forestry, footway-like values)
excludes the way. `private` and `destination` stay drivable: an ambulance enters a
housing compound to reach its patient.
"""

from __future__ import annotations

import hashlib
import re

# km/h on a road of each class before the emergency factor. Link roads (ramps) like
# their road. Order matters: the index is the class number the graph stores.
CLASS_KMH: dict[str, float] = {
    "motorway": 80.0,
    "trunk": 60.0,
    "primary": 45.0,
    "secondary": 40.0,
    "tertiary": 35.0,
    "unclassified": 30.0,
    "residential": 25.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 25.0,
    "track": 10.0,
}
HIGHWAY_CLASSES: tuple[str, ...] = tuple(CLASS_KMH)
LINK_OF = {f"{name}_link": name for name in
           ("motorway", "trunk", "primary", "secondary", "tertiary")}
# Classes a map draws at every zoom; the others only when zoomed in.
MAIN_CLASSES = frozenset({"motorway", "trunk", "primary", "secondary", "tertiary"})

EMERGENCY_FACTOR = 1.2
MAXSPEED_SHARE = 0.8
MPH = 1.609344

ACCESS_KEYS = ("emergency", "motor_vehicle", "motorcar", "vehicle", "access")
DENIED = frozenset({"no", "agricultural", "forestry", "foot", "bicycle", "horse",
                    "pedestrian", "use_sidepath"})
ONEWAY_FORWARD = frozenset({"yes", "true", "1"})
ONEWAY_BACKWARD = frozenset({"-1", "reverse"})
ONEWAY_NONE = frozenset({"no", "false", "0"})
IMPLIED_ONEWAY = frozenset({"motorway", "motorway_link"})

# Directions of a way: both ways, forward (node order) only, backward only.
BOTH, FORWARD, BACKWARD = 0, 1, -1


def road_class(tags) -> str | None:
    """The class name of a drivable highway (links folded into their road), else None."""
    highway = tags.get("highway")
    if highway is None or tags.get("area") == "yes":
        return None
    highway = LINK_OF.get(highway, highway)
    return highway if highway in CLASS_KMH else None


def is_allowed(tags) -> bool:
    """Whether an emergency vehicle may drive the way (most specific access tag wins)."""
    for key in ACCESS_KEYS:
        value = tags.get(key)
        if value is not None:
            return value.strip().lower() not in DENIED
    return True


def direction(tags) -> int:
    """BOTH, FORWARD or BACKWARD, from `oneway`, roundabouts and motorways."""
    oneway = (tags.get("oneway") or "").strip().lower()
    if oneway in ONEWAY_FORWARD:
        return FORWARD
    if oneway in ONEWAY_BACKWARD:
        return BACKWARD
    if oneway in ONEWAY_NONE:
        return BOTH
    if tags.get("junction") in ("roundabout", "circular"):
        return FORWARD
    return FORWARD if tags.get("highway") in IMPLIED_ONEWAY else BOTH


_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(km/h|kmh|kph|mph)?\s*$")


def parse_maxspeed(value: str | None) -> float | None:
    """`50`, `50 km/h`, `30 mph` -> km/h; anything else (`ID:urban`, `none`) -> None."""
    if not value:
        return None
    match = _NUMBER.match(value.split(";")[0].lower())
    if match is None:
        return None
    kmh = float(match.group(1)) * (MPH if match.group(2) == "mph" else 1.0)
    return kmh if 5.0 <= kmh <= 200.0 else None


def speed_kmh(road: str, maxspeed: str | None = None) -> float:
    """The emergency vehicle's speed on a way of class `road` with its `maxspeed` tag."""
    tagged = parse_maxspeed(maxspeed)
    base = tagged * MAXSPEED_SHARE if tagged is not None else CLASS_KMH[road]
    return base * EMERGENCY_FACTOR


def fingerprint() -> str:
    """Changes whenever the profile does, so that a cached graph built with another
    profile is rebuilt."""
    text = repr((CLASS_KMH, EMERGENCY_FACTOR, MAXSPEED_SHARE, sorted(DENIED),
                 sorted(IMPLIED_ONEWAY), ACCESS_KEYS))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
