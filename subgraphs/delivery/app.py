"""ASGI app factory of the delivery subgraph.

Besides what every subgraph does on start (``shared.subgraph``), delivery runs the trail
purge in the background (:mod:`subgraphs.delivery.retention`) and closes its driver position
index (:mod:`subgraphs.delivery.positions`) on shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

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


def create_app(runtime: SubgraphRuntime | None = None) -> FastAPI:
    """The delivery subgraph app (its own runtime from settings unless one is given)."""
    runtime = runtime or SubgraphRuntime.create(NAME)
    return create_subgraph_app(
        runtime=runtime,
        schema=schema,
        make_loaders=create_loaders,
        register_consumers=events.register_consumers,
        seed=demo.seed,
        # Exited in reverse order: the purge stops, then the position index closes.
        background=(position_index_closed_on_shutdown, trail_purge_running),
    )


@asynccontextmanager
async def position_index_closed_on_shutdown(runtime: SubgraphRuntime) -> AsyncIterator[None]:
    """Close the driver position index when the app stops."""
    try:
        yield
    finally:
        await close_position_index(runtime)


@asynccontextmanager
async def trail_purge_running(runtime: SubgraphRuntime) -> AsyncIterator[None]:
    """Run the trail purge (kept in ``runtime.extras[TRAIL_PURGE_KEY]``) while the app is up.

    It starts once the database is migrated and stops before the database is disposed of.
    """
    purge = TrailPurge(
        db=runtime.db,
        interval=delivery_settings(runtime).trail_purge_interval_seconds,
        retention=timedelta(hours=runtime.settings.trail_retention_hours),
    )
    runtime.extras[TRAIL_PURGE_KEY] = purge
    await purge.start()
    try:
        yield
    finally:
        await purge.stop()
        runtime.extras.pop(TRAIL_PURGE_KEY, None)
