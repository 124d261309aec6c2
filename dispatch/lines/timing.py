"""Waiting in the line monitor's loops without losing a cancellation.

Python 3.11's asyncio.wait_for returns the result, and drops the cancellation, when
the awaited future completes in the same moment as the waiting task is cancelled.
A probe loop that lost its cancellation so would probe on forever, and the shutdown
awaiting it would hang. The loops here therefore stop on a flag (an Event) as well
as on cancel(), and wait with asyncio.wait, which never swallows a cancellation.
"""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds`, or less if `event` is set; whether it is set."""
    if event.is_set():
        return True
    waiter = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait([waiter], timeout=max(0.0, seconds))
    finally:
        waiter.cancel()
    return event.is_set()


async def wait_events(events: tuple[asyncio.Event, ...], seconds: float) -> None:
    """Sleep `seconds`, or less once any of `events` is set."""
    if any(event.is_set() for event in events):
        return
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=max(0.0, seconds),
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def wait_future(future: asyncio.Future, seconds: float) -> bool:
    """Wait up to `seconds` for `future` (never cancelling it); whether it is done."""
    if not future.done():
        await asyncio.wait([future], timeout=max(0.0, seconds))
    return future.done()


async def finish_task(task: asyncio.Task, stop: asyncio.Event, grace_s: float) -> None:
    """End a loop that watches `stop` after the work in hand: set it, give the loop
    `grace_s` to end by itself, and only then cancel it (stop_task)."""
    stop.set()
    if not await wait_future(task, grace_s):
        await stop_task(task, stop)
    elif not task.cancelled():
        task.exception()


async def stop_task(task: asyncio.Task, stop: asyncio.Event) -> None:
    """End a loop that watches `stop`: set it, cancel what the loop awaits now, and
    wait for the loop to end (it does at its next check even if the cancellation was
    lost). What the loop raised on its way out is its own affair: it has logged it."""
    stop.set()
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not complain it was never read
