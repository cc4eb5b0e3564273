"""Query plans for the test supergraph (tests/router/fixtures/supergraph.graphql): shapes and services."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.config import RouterConfig
from router.gateway import Gateway
from router.plan import FetchNode, FlattenNode, ParallelNode, QueryPlan, SequenceNode, format_plan

FIXTURE = Path(__file__).parent / "fixtures" / "supergraph.graphql"

SINGLE_SUBGRAPH = "{ topProducts { name price } }"
TWO_ROOTS = "{ me { name } topProducts { name } }"
THREE_HOPS = "{ me { reviews { product { inStock } } } }"
REQUIRES = "{ topProducts { shippingEstimate } }"
PROVIDES = "{ topReviews { author { username } } }"
SHAREABLE = "{ topReviews { product { name } } }"
SIBLING_JUMPS = "{ topProducts { inStock reviews { body } } }"
UNION = '{ search(term: "a") { ... on Book { reviewCount } ... on Product { inStock } } }'
INTERFACE_OBJECT = "{ topMedia { title reviewCount } }"
MUTATIONS = """mutation { a: addReview(upc: "1", body: "x") { id } b: renameUser(id: "1", name: "y") { name } }"""
INTROSPECTION = "{ __schema { queryType { name } } }"
VARIABLES = (
    "query Q($n: Int!, $m: Int!) { topProducts(first: $n) { upc } topReviews(first: $m) { id } }"
)
CONDITIONAL = "query Q($stock: Boolean!) { topProducts { upc inStock @include(if: $stock) } }"


@pytest.fixture(scope="module")
def gateway() -> Gateway:
    return Gateway.from_sdl(FIXTURE.read_text(encoding="utf-8"), RouterConfig())


def plan_of(gateway: Gateway, query: str, variables: dict[str, object] | None = None) -> QueryPlan:
    prepared = gateway.prepare(query, None)
    values = gateway.coerce_variables(prepared, variables or {})
    return gateway.plan_for(query, None, prepared, values).plan


def services(plan: QueryPlan) -> list[str]:
    return [fetch.service_name for fetch in plan.fetches()]


def test_single_subgraph_query_is_one_fetch(gateway: Gateway) -> None:
    plan = plan_of(gateway, SINGLE_SUBGRAPH)
    assert isinstance(plan.node, FetchNode)
    assert plan.node.service_name == "products"
    assert plan.node.requires is None
    assert plan.node.operation == "query{topProducts{name price}}"


def test_root_fields_of_two_subgraphs_run_in_parallel(gateway: Gateway) -> None:
    plan = plan_of(gateway, TWO_ROOTS)
    assert isinstance(plan.node, ParallelNode)
    assert sorted(services(plan)) == ["accounts", "products"]


def test_nested_jumps_are_sequenced(gateway: Gateway) -> None:
    plan = plan_of(gateway, THREE_HOPS)
    assert isinstance(plan.node, SequenceNode)
    assert services(plan) == ["accounts", "reviews", "inventory"]
    flattens = [n for n in plan.node.nodes if isinstance(n, FlattenNode)]
    assert [f.path for f in flattens] == [("me",), ("me", "reviews", "@", "product")]


def test_jump_adds_key_fields_to_the_parent_fetch(gateway: Gateway) -> None:
    plan = plan_of(gateway, THREE_HOPS)
    root = plan.fetches()[0]
    assert root.operation == "query{me{__typename id}}"
    entity = plan.fetches()[1]
    assert entity.operation.startswith("query($representations:[_Any!]!){_entities(")


def test_requires_fetches_owner_before_the_requiring_subgraph(gateway: Gateway) -> None:
    plan = plan_of(gateway, REQUIRES)
    assert services(plan) == ["products", "inventory"]
    inventory = plan.fetches()[1]
    assert inventory.requires is not None
    assert "price" in format_plan(plan) and "weight" in plan.fetches()[0].operation


def test_provides_keeps_the_field_in_the_providing_subgraph(gateway: Gateway) -> None:
    assert services(plan_of(gateway, PROVIDES)) == ["reviews"]


def test_shareable_field_needs_no_jump(gateway: Gateway) -> None:
    assert services(plan_of(gateway, SHAREABLE)) == ["reviews"]


def test_independent_jumps_from_one_fetch_run_in_parallel(gateway: Gateway) -> None:
    plan = plan_of(gateway, SIBLING_JUMPS)
    assert isinstance(plan.node, SequenceNode)
    assert isinstance(plan.node.nodes[1], ParallelNode)
    assert sorted(services(plan)[1:]) == ["inventory", "reviews"]


def test_union_members_jump_per_runtime_type(gateway: Gateway) -> None:
    plan = plan_of(gateway, UNION)
    assert sorted(services(plan)) == ["inventory", "products", "reviews"]
    root = plan.fetches()[0].operation
    assert "...on Book{__typename id}" in root and "...on Product{__typename upc}" in root


def test_interface_object_jumps_to_the_interface_owner(gateway: Gateway) -> None:
    plan = plan_of(gateway, INTERFACE_OBJECT)
    assert services(plan) == ["reviews", "products"]
    (fragment,) = plan.fetches()[1].requires or ()
    assert (fragment.type_condition, fragment.entity_type) == ("Media", None)
    assert (
        "{_entities(representations:$representations){...on Media{__typename ...on Book{title} ...on Movie{title}}}}"
        in plan.fetches()[1].operation
    )


def test_mutation_fields_are_one_fetch_each_in_order(gateway: Gateway) -> None:
    plan = plan_of(gateway, MUTATIONS)
    assert isinstance(plan.node, SequenceNode)
    assert services(plan) == ["reviews", "accounts"]
    assert all(f.operation_kind == "mutation" for f in plan.fetches())


def test_introspection_needs_no_fetch(gateway: Gateway) -> None:
    assert plan_of(gateway, INTROSPECTION).node is None


def test_only_used_variables_are_declared(gateway: Gateway) -> None:
    products, reviews = plan_of(gateway, VARIABLES, {"n": 1, "m": 2}).fetches()
    assert products.variable_usages == ("n",)
    assert products.operation == "query Q__products__0($n:Int!){topProducts(first:$n){upc}}"
    assert reviews.variable_usages == ("m",)


def test_plan_depends_on_include_values(gateway: Gateway) -> None:
    assert services(plan_of(gateway, CONDITIONAL, {"stock": True})) == ["products", "inventory"]
    assert services(plan_of(gateway, CONDITIONAL, {"stock": False})) == ["products"]


def test_plans_are_cached(gateway: Gateway) -> None:
    first = plan_of(gateway, THREE_HOPS)
    assert plan_of(gateway, THREE_HOPS) is first


def test_printed_plan_reads_like_apollos(gateway: Gateway) -> None:
    text = format_plan(plan_of(gateway, THREE_HOPS))
    assert text.startswith('QueryPlan {\n  Sequence {\n    Fetch(service: "accounts") {')
    assert 'Flatten(path: "me.reviews.@.product") {' in text
    assert "... on Product {\n" in text
