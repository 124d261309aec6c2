"""Work asked for by many at once is done once per round, and nobody is left with a
round that started before they asked (dispatch/coalesce.py)."""

import asyncio

from structlog.testing import capture_logs

from dispatch.coalesce import Coalesced


class Gate:
    """Work that waits until the test lets each run end (`release`: one per run
    started)."""

    def __init__(self) -> None:
        self.release: list[asyncio.Event] = []
        self.fail = False
        self.another = asyncio.Condition()

    async def __call__(self) -> None:
        self.release.append(asyncio.Event())
        async with self.another:
            self.another.notify_all()
        await self.release[-1].wait()
        if self.fail:
            raise RuntimeError("this run fails")

    async def run_started(self, n: int) -> None:
        async with self.another:
            await asyncio.wait_for(self.another.wait_for(lambda: len(self.release) >= n), 10)


async def test_askers_during_a_run_share_the_next_one() -> None:
    gate = Gate()
    work = Coalesced("test.work", gate)
    first = asyncio.create_task(work.request())
    await gate.run_started(1)
    later = [asyncio.create_task(work.request()) for _ in range(20)]
    await asyncio.sleep(0)
    gate.release[0].set()
    await asyncio.wait_for(first, 10)
    # Those who asked during the first run are not answered by it: a second run goes.
    await gate.run_started(2)
    assert not any(task.done() for task in later)
    gate.release[1].set()
    await asyncio.wait_for(asyncio.gather(*later), 10)
    assert len(gate.release) == 2


async def test_a_failed_run_is_logged_and_the_next_request_runs_again() -> None:
    gate = Gate()
    work = Coalesced("test.work", gate)
    gate.fail = True
    with capture_logs() as logs:
        asker = asyncio.create_task(work.request())
        await gate.run_started(1)
        gate.release[0].set()
        await asyncio.wait_for(asker, 10)  # answered, not raised: the failure is logged
    assert [entry["event"] for entry in logs] == ["test.work.failed"]
    gate.fail = False
    again = asyncio.create_task(work.request())
    await gate.run_started(2)
    gate.release[1].set()
    await asyncio.wait_for(again, 10)


async def test_an_asker_that_gives_up_does_not_stop_the_run_for_others() -> None:
    gate = Gate()
    work = Coalesced("test.work", gate)
    impatient = asyncio.create_task(work.request())
    await gate.run_started(1)
    patient = asyncio.create_task(work.request())
    impatient.cancel()
    gate.release[0].set()
    await gate.run_started(2)
    gate.release[1].set()
    await asyncio.wait_for(patient, 10)
    assert impatient.cancelled()
