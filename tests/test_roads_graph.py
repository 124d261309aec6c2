"""The road graph: what an ambulance may drive and how fast (routing/roads/profile.py),
and the cache beside the extract (a second load 10x faster than the first, rebuilt
when the extract changes or the cache is damaged)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from routing.roads import (
    BACKWARD,
    BOTH,
    FORWARD,
    ExtractError,
    build_graph,
    cache_path,
    load_graph,
)
from routing.roads.graph import save_cache
from routing.roads.profile import direction, is_allowed, parse_maxspeed, speed_kmh
from tests.roads_support import OsmWriter, city_grid, place


def edges(graph) -> set[tuple[int, int]]:
    """Directed edges as pairs of OSM node ids."""
    ids = graph.node_id
    return set(zip(ids[graph.sources()].tolist(), ids[graph.target].tolist(), strict=True))


def test_directions_follow_oneway_roundabouts_and_motorways(tmp_path: Path) -> None:
    osm = OsmWriter()
    a, b, c, d, e, f, g, h = (place(100 * i, 0) for i in range(8))
    osm.way([a, b], highway="residential")
    osm.way([b, c], highway="residential", oneway="yes")
    osm.way([c, d], highway="residential", oneway="-1")
    osm.way([d, e], highway="primary", junction="roundabout")
    osm.way([e, f], highway="primary", junction="roundabout", oneway="no")
    osm.way([f, g], highway="motorway")
    osm.way([g, h], highway="footway")
    graph = load_graph(osm.write(tmp_path / "ways.osm"), use_cache=False)
    assert edges(graph) == {(1, 2), (2, 1), (2, 3), (4, 3), (4, 5), (5, 6), (6, 5), (6, 7)}
    assert graph.node_count == 7  # the footway's far end is no road node
    assert [d for _, d, _ in graph.ways()] == [BOTH, FORWARD, BACKWARD, FORWARD, BOTH,
                                               FORWARD]
    assert direction({"oneway": "reverse"}) == BACKWARD


def test_access_speed_and_maxspeed() -> None:
    assert not is_allowed({"motor_vehicle": "no"})
    assert not is_allowed({"access": "no"})
    assert is_allowed({"access": "no", "emergency": "yes"})
    assert not is_allowed({"access": "yes", "vehicle": "no"})
    assert is_allowed({"access": "private"})  # a compound's gate opens for an ambulance
    assert not is_allowed({"access": "agricultural"})
    assert parse_maxspeed("50") == 50 and parse_maxspeed("30 mph") == pytest.approx(48.28, abs=0.01)
    assert parse_maxspeed("ID:urban") is None and parse_maxspeed("none") is None
    assert speed_kmh("residential") == pytest.approx(25 * 1.2)
    assert speed_kmh("primary", "60") == pytest.approx(60 * 0.8 * 1.2)
    assert speed_kmh("primary", "fast") == speed_kmh("primary")


def test_edge_times_are_length_over_speed(tmp_path: Path) -> None:
    osm = OsmWriter()
    osm.way([place(0, 0), place(1000, 0)], highway="secondary", maxspeed="40")
    graph = load_graph(osm.write(tmp_path / "one.osm"), use_cache=False)
    assert graph.metres.tolist() == pytest.approx([1000, 1000], rel=1e-3)
    assert graph.seconds.tolist() == pytest.approx([1000 / (40 * 0.8 * 1.2 / 3.6)] * 2,
                                                   rel=1e-3)


def test_an_unusable_extract_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="no such"):
        load_graph(tmp_path / "missing.osm.pbf")
    (tmp_path / "bad.osm").write_text("<osm><node id='1' lat='x'")
    with pytest.raises(ExtractError):
        load_graph(tmp_path / "bad.osm")
    osm = OsmWriter()
    osm.way([place(0, 0), place(100, 0)], highway="footway")
    with pytest.raises(ExtractError, match="no drivable road"):
        load_graph(osm.write(tmp_path / "paths.osm"))


def _timed_load(path: Path):
    started = time.perf_counter()
    graph = load_graph(path)
    return graph, time.perf_counter() - started


def same(a, b) -> bool:
    return (np.array_equal(a.node_id, b.node_id) and np.array_equal(a.target, b.target)
            and np.array_equal(a.seconds, b.seconds))


def test_the_second_load_comes_from_the_cache_ten_times_faster(tmp_path: Path) -> None:
    extract = city_grid(100).write(tmp_path / "city.osm.pbf")
    built, build_s = _timed_load(extract)
    assert cache_path(extract).is_file()
    cached, load_s = min((_timed_load(extract) for _ in range(3)), key=lambda x: x[1])
    assert same(built, cached) and built.node_count == 100 * 100 + 3
    assert load_s * 10 <= build_s, f"built in {build_s:.4f} s, loaded in {load_s:.4f} s"


def test_a_changed_extract_rebuilds_the_cache(tmp_path: Path) -> None:
    extract = city_grid(10).write(tmp_path / "city.osm")
    before = load_graph(extract)
    osm = city_grid(10)
    osm.way([place(0, 0), place(0, -500)], highway="residential")
    osm.write(extract)
    after = load_graph(extract)
    assert after.node_count == before.node_count + 2  # a road out from near a corner
    assert same(after, build_graph(extract))
    assert load_graph(extract).node_count == after.node_count


@pytest.mark.parametrize("damage", ["garbage", "truncated", "inconsistent", "empty"])
def test_a_damaged_cache_is_rebuilt_not_trusted(tmp_path: Path, damage: str) -> None:
    extract = city_grid(10).write(tmp_path / "city.osm")
    good = load_graph(extract)
    cache = cache_path(extract)
    data = cache.read_bytes()
    if damage == "garbage":
        cache.write_bytes(b"\x00not a cache" * 100)
    elif damage == "truncated":
        cache.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        cache.write_bytes(b"")
    else:  # right key, arrays that do not make a graph (an edge to no node)
        with np.load(cache) as stored:
            key = str(stored["key"])
        broken = load_graph(extract)
        object.__setattr__(broken, "target", broken.target + broken.node_count)
        save_cache(broken, cache, key)
    rebuilt = load_graph(extract)
    assert same(rebuilt, good)
    assert same(load_graph(extract), good)  # and the cache written again is sound
    with np.load(cache) as stored:
        assert stored["target"].max() < good.node_count
