"""ASGI app factory of the payments subgraph."""

from __future__ import annotations

from fastapi import FastAPI

from shared.subgraph import SubgraphRuntime, create_subgraph_app
from subgraphs.payments import events
from subgraphs.payments.loaders import create_loaders
from subgraphs.payments.schema import schema

NAME = "payments"


def create_app(runtime: SubgraphRuntime | None = None) -> FastAPI:
    """The payments subgraph app (its own runtime from settings unless one is given)."""
    return create_subgraph_app(
        runtime=runtime or SubgraphRuntime.create(NAME),
        schema=schema,
        make_loaders=create_loaders,
        register_consumers=events.register_consumers,
    )
