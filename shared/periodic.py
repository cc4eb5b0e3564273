"""Background work a subgraph repeats while it runs (a purge, a sweep).

Enters: ``run_once`` of a subclass, the seconds between rounds (read before every wait, so
settings may change) and a stop timeout. Leaves: ``run_once`` at start and then every interval until
``stop()``; a failing run is logged and tried again at the next interval; ``stop()`` lets the
run in hand finish, and cancels it after ``stop_timeout`` (a database or provider that does
not answer). Used through ``create_subgraph_app(background=...)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


class PeriodicTask:
    """Runs :meth:`run_once` now and every ``every()`` seconds until stopped."""

    name = "periodic-task"
    """The task's name (in logs and ``asyncio`` task listings)."""

    def __init__(self, *, every: Callable[[], float], stop_timeout: float) -> None:
        self.every = every
        """Seconds between rounds, read before each wait."""
        self.stop_timeout = stop_timeout
        self.runs = 0
        """Runs attempted since start (tests and diagnostics)."""
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> None:
        """One round of the work; subclasses implement it."""
        raise NotImplementedError

    @property
    def running(self) -> bool:
        """Whether the background task is alive."""
        return self._task is not None and not self._task.done()

    @property
    def stopping(self) -> bool:
        """Whether ``stop()`` was called (a long round may end early)."""
        return self._stopping.is_set()

    async def start(self) -> None:
        """Start in the background (the first round right away)."""
        if not self.running:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop after the round in hand (cancelled after ``stop_timeout``)."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self.stop_timeout)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            self.runs += 1
            try:
                await self.run_once()
            except Exception as error:  # database down: try again next interval
                log.warning("%s failed (%r); retrying in %.0fs", self.name, error, self.every())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.every())
