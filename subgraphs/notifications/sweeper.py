"""The notifications app's sweeper: sends what a process left unsent when it died.

Enters: the runtime's database, its channels and retry settings (``runtime.extras``,
read at every sweep so tests may replace them). Leaves: on start and then every
``sweep_interval_seconds``, :func:`sending.resend_unsent` until no expired claim is
left. ``stop()`` lets the batch in hand finish (a send cut short by the stop timeout
stays PENDING and is taken over after its lease, like any crash).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from shared.db import Database
from shared.periodic import PeriodicTask
from shared.subgraph import SubgraphRuntime
from subgraphs.notifications import sending
from subgraphs.notifications.channels import Channel

log = logging.getLogger(__name__)

SWEEPER_KEY = "notification_sweeper"
"""Where the running sweeper is kept in ``runtime.extras``."""


class UnsentSweeper(PeriodicTask):
    """Periodically claims and sends PENDING notifications whose lease expired."""

    name = "notifications-sweeper"

    def __init__(
        self,
        *,
        db: Database,
        channels: Callable[[], Mapping[str, Channel]],
        settings: Callable[[], sending.RetrySettings],
        stop_timeout: float = 5.0,
    ) -> None:
        # A send cut short by the stop timeout stays PENDING: its claim simply expires.
        super().__init__(
            every=lambda: self.settings().sweep_interval_seconds, stop_timeout=stop_timeout
        )
        self.db = db
        self.channels = channels
        self.settings = settings

    async def sweep_once(self) -> int:
        """Send every notification whose lease expired now; returns how many were attempted."""
        total = 0
        while not self.stopping:
            settings = self.settings()
            attempted = await sending.resend_unsent(
                db=self.db, channels=self.channels(), settings=settings
            )
            total += len(attempted)
            if len(attempted) < settings.batch_size:
                break
        return total

    async def run_once(self) -> None:
        if sent := await self.sweep_once():
            log.info("notifications sweeper attempted %d unsent notifications", sent)


@asynccontextmanager
async def sweeper_running(
    runtime: SubgraphRuntime, *, channels_key: str, settings_key: str
) -> AsyncIterator[None]:
    """Run an :class:`UnsentSweeper` (kept in ``runtime.extras[SWEEPER_KEY]``) while the app
    is up: started once the subgraph has started (consumers registered, so channels and
    settings are in ``runtime.extras``), stopped before it shuts down.

    Meant for ``create_subgraph_app(background=...)`` with the keys bound.
    """
    sweeper = UnsentSweeper(
        db=runtime.db,
        channels=lambda: runtime.extras[channels_key],
        settings=lambda: runtime.extras[settings_key],
    )
    runtime.extras[SWEEPER_KEY] = sweeper
    await sweeper.start()
    try:
        yield
    finally:
        await sweeper.stop()
