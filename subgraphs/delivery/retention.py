"""The trail purge, run in the background while the delivery app is up.

Enters: the delivery database, an interval (``PIZZA_TRAIL_PURGE_INTERVAL_SECONDS``, an hour)
and a retention (``PIZZA_TRAIL_RETENTION_HOURS``, 24 h). Leaves: the trails of deliveries
finished longer than the retention ago deleted (:func:`~subgraphs.delivery.models.purge_finished_trails`,
ADR 0012) once at start-up and then every interval. Every replica runs it: the delete is
idempotent, so replicas racing each other only repeat an empty statement.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from shared.db import Database
from shared.periodic import PeriodicTask
from subgraphs.delivery.models import purge_finished_trails

log = logging.getLogger(__name__)


class TrailPurge(PeriodicTask):
    """Runs :func:`purge_finished_trails` every ``interval`` seconds until stopped."""

    name = "delivery-trail-purge"

    def __init__(self, *, db: Database, interval: float, retention: timedelta) -> None:
        super().__init__(every=lambda: self.interval, stop_timeout=10.0)
        self.db = db
        self.interval = interval
        self.retention = retention

    async def purge_once(self) -> int:
        """Delete the expired trails now and commit; returns how many points went."""
        async with self.db.session() as session:
            deleted = await purge_finished_trails(session, retention=self.retention)
            await session.commit()
        if deleted:
            log.info("purged %d trail points of finished deliveries", deleted)
        return deleted

    async def run_once(self) -> None:
        await self.purge_once()
