"""The trail purge, run in the background while the delivery app is up.

Enters: the delivery database, an interval (``PIZZA_TRAIL_PURGE_INTERVAL_SECONDS``, an hour)
and a retention (``PIZZA_TRAIL_RETENTION_HOURS``, 24 h). Leaves: the trails of deliveries
finished longer than the retention ago deleted (:func:`~subgraphs.delivery.models.purge_finished_trails`,
ADR 0012) once at start-up and then every interval. Every replica runs it: the delete is
idempotent, so replicas racing each other only repeat an empty statement.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from shared.db import Database
from subgraphs.delivery.models import purge_finished_trails

log = logging.getLogger(__name__)


class TrailPurge:
    """Runs :func:`purge_finished_trails` every ``interval`` seconds until stopped."""

    def __init__(self, *, db: Database, interval: float, retention: timedelta) -> None:
        self.db = db
        self.interval = interval
        self.retention = retention
        self.runs = 0
        """Purges attempted since start (tests and diagnostics)."""
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the background task is alive."""
        return self._task is not None and not self._task.done()

    async def purge_once(self) -> int:
        """Delete the expired trails now and commit; returns how many points went."""
        async with self.db.session() as session:
            deleted = await purge_finished_trails(session, retention=self.retention)
            await session.commit()
        if deleted:
            log.info("purged %d trail points of finished deliveries", deleted)
        return deleted

    async def start(self) -> None:
        """Start purging in the background (first purge right away)."""
        if not self.running:
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name="delivery-trail-purge")

    async def stop(self) -> None:
        """Stop after the purge in hand (if any); waits for the task to end."""
        if self._task is None:
            return
        self._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=10)
        except TimeoutError:  # a database that does not answer: give up the purge
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            self.runs += 1
            try:
                await self.purge_once()
            except Exception as error:  # database down: try again next interval
                log.warning("trail purge failed (%r); retrying in %.0fs", error, self.interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.interval)
