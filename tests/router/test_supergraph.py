"""Supergraph model and API schema built from composed supergraph SDL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from graphql import GraphQLObjectType, print_schema

from router.errors import SupergraphError
from router.supergraph import Supergraph
from tests.router.conftest import SUBGRAPH_MODULES, compose

FIXTURE = Path(__file__).parent / "fixtures" / "supergraph.graphql"

INACCESSIBLE_SUBGRAPH = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key", "@inaccessible"])
type Query { things: [Thing!]! secret: String @inaccessible }
type Thing @key(fields: "id") { id: ID! name: String! internal: Int @inaccessible kind: Kind! }
enum Kind { PUBLIC HIDDEN @inaccessible }
"""


@pytest.fixture(scope="module")
def supergraph() -> Supergraph:
    return Supergraph.parse(FIXTURE.read_text(encoding="utf-8"))


def test_subgraphs_and_urls_are_read(supergraph: Supergraph) -> None:
    assert sorted(supergraph.subgraphs) == ["accounts", "inventory", "products", "reviews"]
    assert supergraph.subgraphs["products"].url == "http://products.invalid/graphql"


def test_override_urls_replace_subgraph_urls() -> None:
    parsed = Supergraph.parse(
        FIXTURE.read_text(), override_urls={"products": "http://127.0.0.1:4002/graphql"}
    )
    assert parsed.subgraphs["products"].url == "http://127.0.0.1:4002/graphql"


def test_override_of_unknown_subgraph_is_refused() -> None:
    with pytest.raises(SupergraphError):
        Supergraph.parse(FIXTURE.read_text(), override_urls={"nope": "http://x"})


def test_non_supergraph_sdl_is_refused() -> None:
    with pytest.raises(SupergraphError):
        Supergraph.parse("type Query { a: Int }")


def test_keys_per_subgraph(supergraph: Supergraph) -> None:
    product = supergraph.types["Product"]
    assert sorted(k.graph for k in product.keys) == ["inventory", "products", "reviews"]
    assert all(k.fields == "upc" and k.resolvable for k in product.keys)


def test_field_ownership_honours_external_requires_and_shareable(supergraph: Supergraph) -> None:
    product = supergraph.types["Product"].fields
    assert product["price"].graphs == {"products"}
    assert product["price"].external_in == {"inventory"}
    assert "inventory" in product["shippingEstimate"].requires
    assert product["name"].graphs == {"products", "reviews"}
    assert supergraph.types["Product"].fields["upc"].graphs == {"inventory", "products", "reviews"}


def test_provides_is_recorded(supergraph: Supergraph) -> None:
    assert "reviews" in supergraph.types["Review"].fields["author"].provides


def test_implementations_and_union_members_per_subgraph(supergraph: Supergraph) -> None:
    assert supergraph.possible_types_in("Media", "products") == ["Book", "Movie"]
    assert supergraph.possible_types_in("SearchResult", "products") == ["Book", "Movie", "Product"]
    assert supergraph.possible_types_in("Media", "reviews") == []


def test_api_schema_has_no_federation_machinery(supergraph: Supergraph) -> None:
    printed = print_schema(supergraph.api_schema)
    assert "join__" not in printed and "link__" not in printed and "@link" not in printed
    assert "_entities" not in printed


@pytest.mark.npm
def test_fixture_matches_composition_of_the_test_subgraphs() -> None:
    composed = compose(
        [
            {"name": name, "url": f"http://{name}.invalid/graphql", "sdl": module.schema.as_str()}
            for name, module in SUBGRAPH_MODULES.items()
        ]
    )
    assert composed == FIXTURE.read_text(encoding="utf-8"), (
        "regenerate tests/router/fixtures/supergraph.graphql"
    )


@pytest.mark.npm
def test_api_schema_drops_inaccessible_elements() -> None:
    sdl = compose(
        [{"name": "things", "url": "http://things/graphql", "sdl": INACCESSIBLE_SUBGRAPH}]
    )
    schema = Supergraph.parse(sdl).api_schema
    thing = schema.get_type("Thing")
    assert isinstance(thing, GraphQLObjectType)
    assert set(thing.fields) == {"id", "name", "kind"}
    assert set(schema.query_type.fields) == {"things"}  # type: ignore[union-attr]
    assert set(schema.get_type("Kind").values) == {"PUBLIC"}  # type: ignore[union-attr]
    assert "inaccessible" not in json.dumps(print_schema(schema))


SECURITY_SUBGRAPH = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key", "@authenticated", "@requiresScopes", "@policy", "@tag"])
type Query { things: [Thing!]! @authenticated secret: String @requiresScopes(scopes: [["read"]]) pol: Int @policy(policies: [["p"]]) }
type Thing @key(fields: "id") { id: ID! @tag(name: "public") }
"""


@pytest.mark.npm
def test_api_schema_drops_linked_spec_types_and_directives() -> None:
    sdl = compose([{"name": "things", "url": "http://things/graphql", "sdl": SECURITY_SUBGRAPH}])
    printed = print_schema(Supergraph.parse(sdl).api_schema)
    for name in ("requiresScopes", "policy", "authenticated", "@tag", "join__", "link__"):
        assert name not in printed
    assert "secret: String" in printed
