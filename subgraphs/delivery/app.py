"""ASGI app factory of the delivery subgraph.

Besides what every subgraph does on start (``shared.subgraph``), delivery runs the trail
purge in the background (:mod:`subgraphs.delivery.retention`) and closes its driver position
index (:mod:`subgraphs.delivery.positions`) on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from shared.subgraph import SubgraphRuntime, create_subgraph_app
from subgraphs.delivery import demo, events
from subgraphs.delivery.config import delivery_settings
from subgraphs.delivery.loaders import create_loaders
from subgraphs.delivery.positions import close_position_index
from subgraphs.delivery.retention import TrailPurge
from subgraphs.delivery.schema import schema

NAME = "delivery"
TRAIL_PURGE_KEY = "delivery_trail_purge"
"""Where the runtime keeps its :class:`TrailPurge` while the app runs."""

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def create_app(runtime: SubgraphRuntime | None = None) -> FastAPI:
    """The delivery subgraph app (its own runtime from settings unless one is given)."""
    runtime = runtime or SubgraphRuntime.create(NAME)
    app = create_subgraph_app(
        runtime=runtime,
        schema=schema,
        make_loaders=create_loaders,
        register_consumers=events.register_consumers,
        seed=demo.seed,
    )
    app.router.lifespan_context = _with_background_work(runtime, app.router.lifespan_context)
    return app


def _with_background_work(runtime: SubgraphRuntime, inner: Lifespan) -> Lifespan:
    """The shared lifespan, plus the trail purge once the database is migrated.

    The purge stops before the shared lifespan disposes of the database.
    """

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[Any]:
        async with inner(app) as state:
            purge = TrailPurge(
                db=runtime.db,
                interval=delivery_settings(runtime).trail_purge_interval_seconds,
                retention=timedelta(hours=runtime.settings.trail_retention_hours),
            )
            runtime.extras[TRAIL_PURGE_KEY] = purge
            await purge.start()
            try:
                yield state
            finally:
                await purge.stop()
                runtime.extras.pop(TRAIL_PURGE_KEY, None)
                await close_position_index(runtime)

    return lifespan
