"""ASGI app factory of the menu subgraph."""

from __future__ import annotations

from fastapi import FastAPI

from shared.subgraph import SubgraphRuntime, create_subgraph_app
from subgraphs.menu import demo, events
from subgraphs.menu.loaders import create_loaders
from subgraphs.menu.schema import schema

NAME = "menu"


def create_app(runtime: SubgraphRuntime | None = None) -> FastAPI:
    """The menu subgraph app (its own runtime from settings unless one is given)."""
    return create_subgraph_app(
        runtime=runtime or SubgraphRuntime.create(NAME),
        schema=schema,
        make_loaders=create_loaders,
        register_consumers=events.register_consumers,
        seed=demo.seed,
    )
