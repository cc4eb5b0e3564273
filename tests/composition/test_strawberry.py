"""SDL printed by Strawberry federation schemas composes like Apollo composes it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import strawberry

from router.composition import SubgraphDefinition, compose

COMPOSE_SCRIPT = Path(__file__).parents[1] / "js" / "compose.mjs"
SERVICE_SDL = "{ _service { sdl } }"


@strawberry.federation.type(keys=["id"], description="A pizza on the menu.")
class Pizza:
    id: strawberry.ID
    name: str = strawberry.federation.field(shareable=True, description="Display name.")


@strawberry.type
class MenuQuery:
    @strawberry.field(description="Every pizza.")
    def pizzas(self) -> list[Pizza]:
        return []


@strawberry.federation.type(keys=["id"], name="Pizza")
class PizzaStub:
    id: strawberry.ID
    name: str = strawberry.federation.field(shareable=True)


@strawberry.federation.type(keys=["id"])
class Order:
    id: strawberry.ID
    pizzas: list[PizzaStub] = strawberry.federation.field(authenticated=True)


@strawberry.type(name="Query")
class OrdersQuery:
    @strawberry.field
    def order(self, id: strawberry.ID) -> Order | None:
        return None


def _schemas() -> list[strawberry.federation.Schema]:
    return [
        strawberry.federation.Schema(query=MenuQuery, federation_version="2.11"),
        strawberry.federation.Schema(query=OrdersQuery, federation_version="2.11"),
    ]


def _subgraphs(sdls: list[str]) -> list[SubgraphDefinition]:
    return [
        SubgraphDefinition(name, f"http://{name}/graphql", sdl)
        for name, sdl in zip(["menu", "orders"], sdls, strict=True)
    ]


def test_as_str_and_service_sdl_compose_identically() -> None:
    schemas = _schemas()
    printed = [schema.as_str() for schema in schemas]
    served = [schema.execute_sync(SERVICE_SDL).data["_service"]["sdl"] for schema in schemas]
    from_printed = compose(_subgraphs(printed))
    from_served = compose(_subgraphs(served))
    assert from_printed.errors == []
    assert from_printed.supergraph_sdl == from_served.supergraph_sdl
    assert "_entities" not in (from_printed.supergraph_sdl or "")


@pytest.mark.npm
def test_strawberry_subgraphs_match_apollo() -> None:
    subgraphs = _subgraphs([schema.as_str() for schema in _schemas()])
    payload = json.dumps([{"name": s.name, "url": s.url, "sdl": s.sdl} for s in subgraphs])
    completed = subprocess.run(
        ["node", str(COMPOSE_SCRIPT)],
        input=payload,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    expected = json.loads(completed.stdout)
    assert compose(subgraphs).supergraph_sdl == expected["supergraphSdl"]
