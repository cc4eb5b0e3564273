"""ASGI app factory of the payments subgraph: ``/graphql`` plus webhooks and invoice PDFs."""

from __future__ import annotations

from fastapi import FastAPI

from shared.subgraph import SubgraphRuntime, create_subgraph_app
from subgraphs.payments import demo, events
from subgraphs.payments.config import create_gateway, payments_settings
from subgraphs.payments.loaders import create_loaders
from subgraphs.payments.rest import create_rest_router
from subgraphs.payments.schema import schema

NAME = "payments"


def create_app(runtime: SubgraphRuntime | None = None) -> FastAPI:
    """The payments subgraph app (its own runtime from settings unless one is given)."""
    runtime = runtime or SubgraphRuntime.create(NAME)
    if "payment_gateway" not in runtime.extras:
        # PIZZA_PAYMENT_GATEWAY picks the gateway; a runtime given one (tests) keeps it.
        runtime.extras["payment_gateway"] = create_gateway(payments_settings(runtime))
    app = create_subgraph_app(
        runtime=runtime,
        schema=schema,
        make_loaders=create_loaders,
        register_consumers=events.register_consumers,
        seed=demo.seed,
    )
    app.include_router(create_rest_router(runtime))
    return app
