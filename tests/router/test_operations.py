"""Operation features through the router: fragments, aliases, variables, conditions, abstract types."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator

import pytest

from tests.router.conftest import RouterClient
from tests.router.subgraphs import accounts, reviews

pytestmark = pytest.mark.npm

NAMED_AND_INLINE_FRAGMENTS = """
query { me { ...UserParts ... on User { reviews { ...ReviewParts } } } }
fragment UserParts on User { name }
fragment ReviewParts on Review { body product { ... on Product { inStock } } }
"""

ALIASES = """
{ who: me { fullName: name } first: topProducts(first: 1) { id: upc available: inStock } }
"""

ALIAS_SHADOWING_KEYS = """
{ topProducts(first: 2) { upc: name price: weight shippingEstimate } }
"""

VARIABLES = """
query Top($n: Int!, $term: String!) { topProducts(first: $n) { name } search(term: $term) { __typename } }
"""

DEFAULT_VARIABLE = """
query Top($n: Int! = 2) { topProducts(first: $n) { upc } }
"""

CONDITIONS = """
query Cond($withStock: Boolean!, $skipName: Boolean!) {
  topProducts(first: 1) { name @skip(if: $skipName) inStock @include(if: $withStock) }
}
"""

TYPENAMES = """
{ __typename me { __typename kind: __typename reviews { __typename } } }
"""

INTERFACE = """
{ media { __typename id title ... on Book { author reviewCount } ... on Movie { director } } }
"""

UNION = """
{ search(term: "e") { __typename ... on Product { upc inStock } ... on Book { title } ... on Movie { title } } }
"""

INTERFACE_OBJECT_FIELDS_ONLY = """
{ topMedia { id reviewCount } }
"""

INTERFACE_OBJECT_WITH_TYPES = """
{ topMedia { __typename title reviewCount ... on Book { author } } }
"""

INTROSPECTION = """
{ __schema { queryType { name } types { name } } __type(name: "Product") { fields { name } } }
"""

MIXED_INTROSPECTION = """
{ me { name } __type(name: "User") { name } }
"""

PARALLEL_ROOTS = """
{ slowAccounts slowProducts }
"""

MUTATIONS = """
mutation {
  first: addReview(upc: "3", body: "Sturdy.") { id body }
  rename: renameUser(id: "2", name: "Alan M. Turing") { name }
  second: addReview(upc: "1", body: "Solid.") { body product { name } }
}
"""


def test_named_and_inline_fragments_are_expanded(router: RouterClient) -> None:
    result = router.post(NAMED_AND_INLINE_FRAGMENTS)
    assert result["data"]["me"]["name"] == "Ada Lovelace"
    assert result["data"]["me"]["reviews"][0] == {"body": "Love it!", "product": {"inStock": True}}


def test_aliases_are_applied(router: RouterClient) -> None:
    result = router.post(ALIASES)
    assert result["data"] == {
        "who": {"fullName": "Ada Lovelace"},
        "first": [{"id": "1", "available": True}],
    }


def test_client_alias_may_shadow_key_and_required_fields(router: RouterClient) -> None:
    result = router.post(ALIAS_SHADOWING_KEYS)
    assert result["data"]["topProducts"] == [
        {"upc": "Table", "price": 100, "shippingEstimate": 50},
        {"upc": "Couch", "price": 1000, "shippingEstimate": 0},
    ]
    (call,) = router.log.entity_calls("inventory")
    assert call.body["variables"]["representations"][0] == {
        "__typename": "Product",
        "upc": "1",
        "price": 899,
        "weight": 100,
    }


def test_only_used_variables_are_forwarded(router: RouterClient) -> None:
    result = router.post(VARIABLES, {"n": 2, "term": "dune"})
    assert [p["name"] for p in result["data"]["topProducts"]] == ["Table", "Couch"]
    assert result["data"]["search"] == [{"__typename": "Book"}]
    (call,) = router.log.for_service("products")
    assert call.body["variables"] == {"n": 2, "term": "dune"}


def test_variable_defaults_apply(router: RouterClient) -> None:
    result = router.post(DEFAULT_VARIABLE)
    assert result["data"]["topProducts"] == [{"upc": "1"}, {"upc": "2"}]


def test_skip_and_include_follow_variables(router: RouterClient) -> None:
    shown = router.post(CONDITIONS, {"withStock": True, "skipName": False})
    assert shown["data"]["topProducts"] == [{"name": "Table", "inStock": True}]
    router.log.clear()
    hidden = router.post(CONDITIONS, {"withStock": False, "skipName": True})
    assert hidden["data"]["topProducts"] == [{}]
    assert router.log.entity_calls("inventory") == []


def test_typename_is_resolved_everywhere(router: RouterClient) -> None:
    result = router.post(TYPENAMES)
    assert result["data"]["__typename"] == "Query"
    assert result["data"]["me"]["__typename"] == "User"
    assert result["data"]["me"]["kind"] == "User"
    assert result["data"]["me"]["reviews"][0] == {"__typename": "Review"}


def test_interface_fields_resolve_per_runtime_type(router: RouterClient) -> None:
    result = router.post(INTERFACE)
    assert result["data"]["media"] == [
        {"__typename": "Book", "id": "b1", "title": "Dune", "author": "Herbert", "reviewCount": 7},
        {"__typename": "Movie", "id": "m1", "title": "Alien", "director": "Scott"},
    ]


def test_union_members_resolve_with_entity_jumps(router: RouterClient) -> None:
    result = router.post(UNION)
    assert result["data"]["search"] == [
        {"__typename": "Book", "title": "Dune"},
        {"__typename": "Movie", "title": "Alien"},
        {"__typename": "Product", "upc": "1", "inStock": True},
    ]


def test_interface_object_field_is_fetched_with_the_interface_as_typename(
    router: RouterClient,
) -> None:
    result = router.post(INTERFACE)
    assert result["data"]["media"][0]["reviewCount"] == 7
    (call,) = router.log.entity_calls("reviews")
    assert call.body["variables"]["representations"] == [{"__typename": "Media", "id": "b1"}]


def test_interface_object_alone_answers_interface_fields(router: RouterClient) -> None:
    result = router.post(INTERFACE_OBJECT_FIELDS_ONLY)
    assert result["data"]["topMedia"] == [
        {"id": "m1", "reviewCount": 3},
        {"id": "b1", "reviewCount": 7},
    ]
    assert [r.service for r in router.log.requests] == ["reviews"]


def test_interface_object_gets_runtime_types_from_the_interface_owner(router: RouterClient) -> None:
    result = router.post(INTERFACE_OBJECT_WITH_TYPES)
    assert result["data"]["topMedia"] == [
        {"__typename": "Movie", "title": "Alien", "reviewCount": 3},
        {"__typename": "Book", "title": "Dune", "reviewCount": 7, "author": "Herbert"},
    ]
    (call,) = router.log.entity_calls("products")
    assert call.body["variables"]["representations"] == [
        {"__typename": "Media", "id": "m1"},
        {"__typename": "Media", "id": "b1"},
    ]


def test_introspection_is_answered_without_fetches(router: RouterClient) -> None:
    result = router.post(INTROSPECTION)
    assert result["data"]["__schema"]["queryType"] == {"name": "Query"}
    names = {t["name"] for t in result["data"]["__schema"]["types"]}
    assert "Product" in names
    assert not any(n.startswith(("join__", "link__")) for n in names)
    assert {f["name"] for f in result["data"]["__type"]["fields"]} >= {"upc", "inStock", "reviews"}
    assert router.log.requests == []


def test_introspection_mixes_with_regular_fields(router: RouterClient) -> None:
    result = router.post(MIXED_INTROSPECTION)
    assert result["data"] == {"me": {"name": "Ada Lovelace"}, "__type": {"name": "User"}}


def test_root_fields_of_different_subgraphs_are_fetched_in_parallel(router: RouterClient) -> None:
    result = router.post(PARALLEL_ROOTS)
    assert result["data"] == {"slowAccounts": "accounts", "slowProducts": "products"}
    a, b = router.log.for_service("accounts")[0], router.log.for_service("products")[0]
    assert a.started < b.ended and b.started < a.ended  # the two requests overlapped


@pytest.fixture
def restore_subgraph_data() -> Iterator[None]:
    """Undo the mutations' writes to the subgraphs' in-memory data."""
    users, review_rows = copy.deepcopy(accounts.USERS), copy.deepcopy(reviews.REVIEWS)
    yield
    accounts.USERS.clear()
    accounts.USERS.update(users)
    reviews.REVIEWS[:] = review_rows


@pytest.mark.usefixtures("restore_subgraph_data")
def test_mutation_root_fields_run_in_order(router: RouterClient) -> None:
    result = router.post(MUTATIONS)
    assert "errors" not in result, result
    assert result["data"]["first"]["body"] == "Sturdy."
    assert result["data"]["rename"] == {"name": "Alan M. Turing"}
    assert result["data"]["second"] == {"body": "Solid.", "product": {"name": "Table"}}
    services = [r.service for r in router.log.requests]
    assert services == ["reviews", "accounts", "reviews"]
    mutation_calls = [r for r in router.log.requests if r.body["query"].startswith("mutation")]
    assert all(
        earlier.ended <= later.started for earlier, later in itertools.pairwise(mutation_calls)
    )


def test_authorization_and_configured_headers_are_forwarded(router: RouterClient) -> None:
    response = router.http.post(
        router.url,
        json={"query": "{ me { name } }"},
        headers={"Authorization": "Bearer t0ken", "X-Tenant": "acme", "X-Other": "no"},
    )
    assert response.status_code == 200
    (call,) = router.log.for_service("accounts")
    assert call.headers["authorization"] == "Bearer t0ken"
    assert call.headers["x-tenant"] == "acme"
    assert "x-other" not in call.headers
