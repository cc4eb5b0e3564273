"""The notifications app's sweeper: sends what a process left unsent when it died.

Enters: the runtime's database, its channels and retry settings (``runtime.extras``,
read at every sweep so tests may replace them). Leaves: on start and then every
``sweep_interval_seconds``, :func:`sending.resend_unsent` until no expired claim is
left. ``stop()`` lets the batch in hand finish (a send cut short by the stop timeout
stays PENDING and is taken over after its lease, like any crash).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from shared.db import Database
from shared.subgraph import SubgraphRuntime
from subgraphs.notifications import sending
from subgraphs.notifications.channels import Channel

log = logging.getLogger(__name__)

SWEEPER_KEY = "notification_sweeper"
"""Where the running sweeper is kept in ``runtime.extras``."""


class UnsentSweeper:
    """Periodically claims and sends PENDING notifications whose lease expired."""

    def __init__(
        self,
        *,
        db: Database,
        channels: Callable[[], Mapping[str, Channel]],
        settings: Callable[[], sending.RetrySettings],
        stop_timeout: float = 5.0,
    ) -> None:
        self.db = db
        self.channels = channels
        self.settings = settings
        self.stop_timeout = stop_timeout
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the sweeping task is alive."""
        return self._task is not None and not self._task.done()

    async def sweep_once(self) -> int:
        """Send every notification whose lease expired now; returns how many were attempted."""
        total = 0
        while not self._stopping.is_set():
            settings = self.settings()
            attempted = await sending.resend_unsent(
                db=self.db, channels=self.channels(), settings=settings
            )
            total += len(attempted)
            if len(attempted) < settings.batch_size:
                break
        return total

    async def start(self) -> None:
        """Start sweeping in the background."""
        if not self.running:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="notifications-sweeper")

    async def stop(self) -> None:
        """Stop after the batch in hand (cancelled after ``stop_timeout``)."""
        if self._task is None:
            return
        self._stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self.stop_timeout)
        except TimeoutError:  # a provider that does not answer: its claim simply expires
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            self._task = None

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if sent := await self.sweep_once():
                    log.info("notifications sweeper attempted %d unsent notifications", sent)
            except Exception as exc:  # database down: the rows wait for the next sweep
                log.warning("notifications sweeper failed (%r); retrying", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=self.settings().sweep_interval_seconds
                )


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
