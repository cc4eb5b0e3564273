"""Entity jumps, batching, deduplication, @requires, @provides and @shareable over real HTTP."""

from __future__ import annotations

import pytest

from tests.router.conftest import RouterClient

pytestmark = pytest.mark.npm

ME_REVIEWS_PRODUCTS = """
{ me { name reviews { body product { name inStock } } } }
"""

TOP_PRODUCTS_REVIEWS = """
{ topProducts { name reviews { body author { username } } } }
"""

REVIEW_AUTHORS = """
{ topReviews { author { name } } }
"""

SHIPPING = """
{ topProducts { upc shippingEstimate } }
"""

PROVIDED_USERNAME = """
{ topReviews { author { username } } }
"""

SHAREABLE_NAME = """
{ topReviews { product { name } } }
"""


def test_nested_jumps_across_three_subgraphs(router: RouterClient) -> None:
    result = router.post(ME_REVIEWS_PRODUCTS)
    assert "errors" not in result
    assert result["data"] == {
        "me": {
            "name": "Ada Lovelace",
            "reviews": [
                {"body": "Love it!", "product": {"name": "Table", "inStock": True}},
                {"body": "Too expensive.", "product": {"name": "Couch", "inStock": False}},
            ],
        }
    }
    assert [r.service for r in router.log.requests] == ["accounts", "reviews", "inventory"]


def test_entity_fetches_are_batched_per_subgraph(router: RouterClient) -> None:
    result = router.post(TOP_PRODUCTS_REVIEWS)
    assert "errors" not in result
    assert [p["name"] for p in result["data"]["topProducts"]] == ["Table", "Couch", "Chair"]
    assert len(router.log.entity_calls("reviews")) == 1
    representations = router.log.entity_calls("reviews")[0].body["variables"]["representations"]
    assert [r["upc"] for r in representations] == ["1", "2", "3"]


def test_identical_representations_are_sent_once(router: RouterClient) -> None:
    result = router.post(REVIEW_AUTHORS)
    names = [r["author"]["name"] for r in result["data"]["topReviews"]]
    assert names == ["Ada Lovelace", "Ada Lovelace", "Alan Turing", "Alan Turing"]
    (call,) = router.log.entity_calls("accounts")
    assert call.body["variables"]["representations"] == [
        {"__typename": "User", "id": "1"},
        {"__typename": "User", "id": "2"},
    ]


def test_requires_fetches_required_fields_first(router: RouterClient) -> None:
    result = router.post(SHIPPING)
    assert "errors" not in result, result
    assert result["data"]["topProducts"] == [
        {"upc": "1", "shippingEstimate": 50},
        {"upc": "2", "shippingEstimate": 0},
        {"upc": "3", "shippingEstimate": 25},
    ]
    (call,) = router.log.entity_calls("inventory")
    assert call.body["variables"]["representations"][0] == {
        "__typename": "Product",
        "upc": "1",
        "price": 899,
        "weight": 100,
    }


def test_required_fields_are_not_returned_to_the_client(router: RouterClient) -> None:
    result = router.post(SHIPPING)
    assert set(result["data"]["topProducts"][0]) == {"upc", "shippingEstimate"}


def test_provides_avoids_a_fetch_to_the_owner(router: RouterClient) -> None:
    result = router.post(PROVIDED_USERNAME)
    assert [r["author"]["username"] for r in result["data"]["topReviews"]] == [
        "ada",
        "ada",
        "alan",
        "alan",
    ]
    assert [r.service for r in router.log.requests] == ["reviews"]


def test_shareable_field_is_taken_from_the_current_subgraph(router: RouterClient) -> None:
    result = router.post(SHAREABLE_NAME)
    assert [r["product"]["name"] for r in result["data"]["topReviews"]] == [
        "Table",
        "Couch",
        "Chair",
        "Table",
    ]
    assert [r.service for r in router.log.requests] == ["reviews"]
