"""The generic test subgraph is strict: planning mistakes must surface as differences."""

from __future__ import annotations

from typing import Any

from tests.differential.harness import Computed, obj, sdl
from tests.differential.subgraph import GenericSubgraph

SHIPPING = sdl(
    """
    type Query { products: [Product!]! }
    type Product @key(fields: "upc") {
      upc: ID!
      weight: Int! @external
      estimate: Int! @requires(fields: "weight")
    }
    """
)

MEDIA = sdl(
    """
    interface Media @key(fields: "id") { id: ID! }
    type Book implements Media @key(fields: "id owner { id }") { id: ID! owner: Org! title: String! }
    type Org { id: ID! }
    """
)

ENTITIES = (
    "query($r:[_Any!]!){_entities(representations:$r){...on Product{estimate} ...on Book{title}}}"
)


def _data() -> dict[str, list[dict[str, Any]]]:
    table = obj("Product", upc="p1", weight=20, estimate=Computed(lambda s, _: s["weight"] * 2))
    dune = obj("Book", id="b1", owner=obj("Org", id="o1"), title="Dune")
    return {"Product": [table], "Book": [dune], "Query": [{"products": [table]}]}


def run(sdl_text: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    subgraph = GenericSubgraph(
        name="test", sdl=sdl_text, implements={"Book": {"Media"}}, data=_data
    )
    return subgraph.execute({"query": query, "variables": variables or {}}, _data())


def test_external_field_is_not_resolved_unless_provided() -> None:
    result = run(SHIPPING, "{ products { weight } }")
    assert result["data"] is None
    assert "is @external" in result["errors"][0]["message"]


def test_requires_field_fails_without_its_required_fields() -> None:
    result = run(
        SHIPPING,
        ENTITIES.replace("...on Book{title}", ""),
        {"r": [{"__typename": "Product", "upc": "p1"}]},
    )
    assert "without its @requires fields" in result["errors"][0]["message"]


def test_requires_field_is_computed_from_the_representation() -> None:
    representation = {"__typename": "Product", "upc": "p1", "weight": 5}
    result = run(SHIPPING, ENTITIES.replace("...on Book{title}", ""), {"r": [representation]})
    assert result == {"data": {"_entities": [{"estimate": 10}]}}


def test_entities_are_found_by_nested_keys_and_through_interfaces() -> None:
    query = "query($r:[_Any!]!){_entities(representations:$r){__typename ...on Book{title}}}"
    representations = [
        {"__typename": "Book", "id": "b1", "owner": {"id": "o1"}},
        {"__typename": "Book", "id": "b1", "owner": {"id": "o2"}},
        {"__typename": "Media", "id": "b1"},
    ]
    result = run(MEDIA, query, {"r": representations})
    assert result == {
        "data": {
            "_entities": [
                {"__typename": "Book", "title": "Dune"},
                None,
                {"__typename": "Book", "title": "Dune"},
            ]
        }
    }
