"""ASGI app factory of the orders subgraph."""

from __future__ import annotations

from fastapi import FastAPI

from shared.subgraph import SubgraphRuntime, create_subgraph_app
from subgraphs.orders import demo, events
from subgraphs.orders.loaders import create_loaders
from subgraphs.orders.schema import schema

NAME = "orders"


def create_app(runtime: SubgraphRuntime | None = None) -> FastAPI:
    """The orders subgraph app (its own runtime from settings unless one is given)."""
    return create_subgraph_app(
        runtime=runtime or SubgraphRuntime.create(NAME),
        schema=schema,
        make_loaders=create_loaders,
        register_consumers=events.register_consumers,
        seed=demo.seed,
    )
