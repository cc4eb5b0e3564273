"""``shared.periodic.PeriodicTask``: rounds at start and every interval, retries after a
failure, a stop that waits for the round in hand and cancels a hung one."""

from __future__ import annotations

import asyncio

from shared.periodic import PeriodicTask


class _Counting(PeriodicTask):
    def __init__(self, *, fail_first: bool = False, hang: bool = False) -> None:
        super().__init__(every=lambda: 0.01, stop_timeout=0.1)
        self.done = 0
        self.fail_first = fail_first
        self.hang = hang

    async def run_once(self) -> None:
        if self.hang:
            await asyncio.Event().wait()
        if self.fail_first and self.runs == 1:
            raise RuntimeError("database down")
        self.done += 1


async def test_rounds_repeat_and_a_failed_round_is_retried() -> None:
    task = _Counting(fail_first=True)
    await task.start()
    async with asyncio.timeout(2):
        while task.done < 3:
            await asyncio.sleep(0.01)
    await task.stop()
    assert not task.running
    assert task.runs >= 4  # the failed first round, then three good ones


async def test_stop_cancels_a_hung_round_after_the_timeout() -> None:
    task = _Counting(hang=True)
    await task.start()
    await asyncio.sleep(0.02)
    async with asyncio.timeout(2):
        await task.stop()
    assert not task.running and task.done == 0
