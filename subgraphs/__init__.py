"""The eight domain subgraphs; each package has the same rooms.

``schema.py`` GraphQL types and thin resolvers, ``service.py`` domain rules,
``models.py`` SQLAlchemy tables, ``loaders.py`` DataLoaders, ``events.py`` what it
publishes and consumes, ``demo.py`` demo data, ``app.py`` the ASGI app factory,
``migrations/`` Alembic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from shared.settings import SUBGRAPH_NAMES

if TYPE_CHECKING:
    import strawberry
    from fastapi import FastAPI

    from shared.subgraph import SubgraphRuntime


def create_app(name: str, runtime: SubgraphRuntime | None = None) -> FastAPI:
    """The ASGI app of subgraph ``name``."""
    if name not in SUBGRAPH_NAMES:
        raise ValueError(f"unknown subgraph {name!r}; known: {', '.join(SUBGRAPH_NAMES)}")
    module = importlib.import_module(f"subgraphs.{name}.app")
    return module.create_app(runtime)


def load_schema(name: str) -> strawberry.federation.Schema:
    """The Strawberry schema of subgraph ``name`` (for SDL export)."""
    return importlib.import_module(f"subgraphs.{name}.schema").schema
