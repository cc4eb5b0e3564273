"""ASGI app factory of the geo subgraph."""

from __future__ import annotations

from fastapi import FastAPI

from shared.subgraph import SubgraphRuntime, create_subgraph_app
from subgraphs.geo import demo, events
from subgraphs.geo.geocoding import default_gazetteer
from subgraphs.geo.loaders import create_loaders
from subgraphs.geo.schema import GEOCODER, schema

NAME = "geo"


def create_app(runtime: SubgraphRuntime | None = None) -> FastAPI:
    """The geo subgraph app (its own runtime from settings unless one is given).

    The geocoder is the shipped gazetteer unless the runtime already carries a
    provider under ``extras["geocoder"]``.
    """
    runtime = runtime or SubgraphRuntime.create(NAME)
    runtime.extras.setdefault(GEOCODER, default_gazetteer())
    return create_subgraph_app(
        runtime=runtime,
        schema=schema,
        make_loaders=create_loaders,
        register_consumers=events.register_consumers,
        seed=demo.seed,
    )
