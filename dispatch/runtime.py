"""The interpreter tuned for a long-running service with thousands of sockets.

CPython's cyclic garbage collector walks every tracked object in a full (generation 2)
collection. With 1,000 phones connected a process tracks ~260,000 objects (tasks,
frames, buffers of each socket), and each full collection stopped the event loop for
115-160 ms every 12-20 s under load: that was the tail of the dispatch latency. Most
of those objects live as long as the process (modules, the app, the pool) or as long
as their socket, and are freed by reference counting, not by the collector.

So, once start-up is done: collect once, then `gc.freeze()` what exists (the collector
no longer walks it), and collect the young generation less often: after 50,000
allocations instead of 700. A cycle among frozen objects is never collected, which is
why only start-up objects are frozen. The serving process also collects on a clock,
four times a second (collect_on_a_clock): with 5,000 phones one young collection a run
held the loop 85-125 ms, at a threshold of 10,000 as at 50,000, because deallocations of
old objects hold the count back while young objects pile up. The middle generation is
collected every ten minutes or so (GC_THRESHOLDS): with 5,000 phones that still holds
the loop for 100-250 ms each time (docs/performance.md). Collections slower than
`SLOW_GC_MS` are logged (`gc.slow`), so that a regression shows in the service's own
log.

The event loop is watched the same way: a step that holds it longer than
`SLOW_LOOP_MS` (every socket, request and timer waits meanwhile) is logged as
`loop.slow` with how late a 50 ms timer woke.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time

import structlog

log = structlog.get_logger(__name__)

# Young-generation threshold (allocations; the serving process collects the young
# generation on a clock anyway) and the two older ones (collections of the younger
# one): the middle generation every 2,400 young collections, about ten minutes, since
# each walks every object that outlived a young collection and still lives (with 5,000
# phones every 20 s, as the collector's default of 20 at one a second would, cost
# 130-240 ms each time); a full collection after 100 of those.
GC_THRESHOLDS = (50_000, 2400, 100)
SLOW_GC_MS = 20.0

# When the collection in progress started, and the generations' counts then (what it
# had to walk: the young generation's count is objects, the older ones' collections).
_started: list = []


def _time_collections(phase: str, info: dict) -> None:
    if phase == "start":
        _started[:] = [time.perf_counter(), gc.get_count()]
    elif _started:
        ms = (time.perf_counter() - _started[0]) * 1000
        if ms >= SLOW_GC_MS:
            log.warning("gc.slow", generation=info.get("generation"), ms=round(ms, 1),
                        collected=info.get("collected"), counts=_started[1])


def tune_gc_after_start_up() -> None:
    """Collect, freeze what start-up made, raise the thresholds, time collections.
    Called once, when the service is ready; calling it again only freezes again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    if _time_collections not in gc.callbacks:
        gc.callbacks.append(_time_collections)


# The young generation collected on a clock rather than by count alone (see
# collect_on_a_clock).
YOUNG_EVERY_S = 0.25


async def collect_on_a_clock(stop: asyncio.Event) -> None:
    """Until `stop`: collect every YOUNG_EVERY_S, the older generations as the
    collector's own thresholds say (an older one when the younger one's collections since
    its last outnumber its threshold).

    The collector starts a young collection when allocations outnumber deallocations by
    the threshold, and the deallocations of old objects count too: in a steady state,
    with as many objects dying as being born, the count creeps up slowly, and a young
    collection came about once a minute, over every object born since that was still
    alive. With 5,000 phones that was 90-115 ms of a held loop once a run. Collected
    every second, the same objects cost 5-20 ms each time: about 13,000 of them outlive
    each second (the coroutines and futures of sockets waiting for their next frame),
    and a collection's time grows with what it finds alive. Four times a second it is a
    quarter of that each time, for the same work in all: a request meets shorter holds
    (docs/performance.md, sixth round). Since the count then never reaches the
    threshold, the collector would never start the older generations' collections
    itself: this does."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), YOUNG_EVERY_S)
        if not stop.is_set():
            gc.collect(_due_generation())


def _due_generation() -> int:
    _, middle, old = gc.get_count()
    _, middle_threshold, old_threshold = gc.get_threshold()
    return 2 if old > old_threshold else 1 if middle > middle_threshold else 0


SLOW_LOOP_MS = 50.0
LOOP_PROBE_S = 0.05


async def watch_loop(stop: asyncio.Event) -> None:
    """Until `stop`: log `loop.slow` when a LOOP_PROBE_S timer wakes SLOW_LOOP_MS late
    or more (the loop was held by one step, a collection, or a starved CPU)."""
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(LOOP_PROBE_S)
        late_ms = (time.perf_counter() - started - LOOP_PROBE_S) * 1000
        if late_ms >= SLOW_LOOP_MS:
            log.warning("loop.slow", late_ms=round(late_ms, 1))
