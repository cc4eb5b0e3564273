"""ASGI app factory of the notifications subgraph."""

from __future__ import annotations

from functools import partial

from fastapi import FastAPI

from shared.subgraph import SubgraphRuntime, create_subgraph_app
from subgraphs.notifications import demo, events, sweeper
from subgraphs.notifications.loaders import create_loaders
from subgraphs.notifications.schema import schema

NAME = "notifications"


def create_app(runtime: SubgraphRuntime | None = None) -> FastAPI:
    """The notifications subgraph app (its own runtime from settings unless one is given).

    Besides the common wiring it runs the sweeper that sends what a dead process left
    unsent (``sweeper.UnsentSweeper``).
    """
    runtime = runtime or SubgraphRuntime.create(NAME)
    return create_subgraph_app(
        runtime=runtime,
        schema=schema,
        make_loaders=create_loaders,
        register_consumers=events.register_consumers,
        seed=demo.seed,
        background=(
            partial(
                sweeper.sweeper_running,
                channels_key=events.CHANNELS_KEY,
                settings_key=events.RETRY_KEY,
            ),
        ),
    )
