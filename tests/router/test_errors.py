"""Partial failures: subgraph errors re-pathed, subgraphs down or slow, null propagation."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from router.config import RouterConfig
from tests.router.conftest import RouterClient, ThreadedServer, free_port, start_router

pytestmark = pytest.mark.npm

FLAKY = """
{ topProducts { upc flaky } }
"""

STOCK_COUNT = """
{ topProducts { name stockCount } }
"""

NON_NULL_FROM_DOWN_SUBGRAPH = """
{ product(upc: "1") { name inStock } me { name } }
"""

ROOT_FROM_DOWN_SUBGRAPH = """
{ warehouseName me { name } }
"""

SLOW = """
{ product(upc: "1") { name slowStock } }
"""

NON_NULL_SUBGRAPH_ERROR = """
{ users { id strictNickname } }
"""


@pytest.fixture(scope="module")
def inventory_down_url(supergraph_sdl: str, subgraph_urls: dict[str, str]) -> Iterator[str]:
    """A router whose inventory subgraph URL points at a closed port."""
    config = RouterConfig(
        override_subgraph_url={"inventory": f"http://127.0.0.1:{free_port()}/graphql"}
    )
    server: ThreadedServer = start_router(supergraph_sdl, config)
    yield f"{server.url}/graphql"
    server.stop()


@pytest.fixture(scope="module")
def inventory_slow_url(supergraph_sdl: str, subgraph_urls: dict[str, str]) -> Iterator[str]:
    """A router with a 0.2 s timeout for inventory (whose ``slowStock`` takes 1 s)."""
    server = start_router(supergraph_sdl, RouterConfig(subgraph_timeouts={"inventory": 0.2}))
    yield f"{server.url}/graphql"
    server.stop()


def test_subgraph_errors_are_repathed_to_the_client_path(router: RouterClient) -> None:
    result = router.post(FLAKY)
    assert result["data"]["topProducts"][1] == {"upc": "2", "flaky": None}
    assert result["data"]["topProducts"][0]["flaky"] == "ok-1"
    (error,) = result["errors"]
    assert error["message"] == "flaky failure"
    assert error["path"] == ["topProducts", 1, "flaky"]
    assert error["extensions"]["serviceName"] == "inventory"


def test_subgraph_down_gives_partial_data_and_a_coded_error(
    http: httpx.Client, inventory_down_url: str
) -> None:
    result = http.post(inventory_down_url, json={"query": STOCK_COUNT}).json()
    assert result["data"]["topProducts"] == [
        {"name": "Table", "stockCount": None},
        {"name": "Couch", "stockCount": None},
        {"name": "Chair", "stockCount": None},
    ]
    (error,) = result["errors"]
    assert error["extensions"] == {"code": "SUBGRAPH_UNAVAILABLE", "serviceName": "inventory"}


def test_null_from_a_down_subgraph_bubbles_to_the_nullable_parent(
    http: httpx.Client, inventory_down_url: str
) -> None:
    result = http.post(inventory_down_url, json={"query": NON_NULL_FROM_DOWN_SUBGRAPH}).json()
    assert result["data"] == {"product": None, "me": {"name": "Ada Lovelace"}}
    assert [e["extensions"]["code"] for e in result["errors"] if "extensions" in e] == [
        "SUBGRAPH_UNAVAILABLE"
    ]


def test_failed_root_fetch_nulls_the_whole_data_for_non_null_roots(
    http: httpx.Client, inventory_down_url: str
) -> None:
    response = http.post(inventory_down_url, json={"query": ROOT_FROM_DOWN_SUBGRAPH})
    assert response.status_code == 200
    result = response.json()
    assert result["data"] is None
    codes = [e.get("extensions", {}).get("code") for e in result["errors"]]
    assert "SUBGRAPH_UNAVAILABLE" in codes
    assert any(e.get("path") == ["warehouseName"] for e in result["errors"])


def test_slow_subgraph_gives_a_timeout_error(http: httpx.Client, inventory_slow_url: str) -> None:
    result = http.post(inventory_slow_url, json={"query": SLOW}).json()
    assert result["data"] == {"product": {"name": "Table", "slowStock": None}}
    (error,) = result["errors"]
    assert error["extensions"]["code"] == "SUBGRAPH_TIMEOUT"
    assert error["extensions"]["serviceName"] == "inventory"


def test_subgraph_null_in_non_null_field_bubbles_through_lists(router: RouterClient) -> None:
    result = router.post(NON_NULL_SUBGRAPH_ERROR)
    # users: [User!]! — user 2's failing strictNickname nulls the item, then the list, then data.
    assert result["data"] is None
    assert any(e.get("path") == ["users", 1, "strictNickname"] for e in result["errors"])


@pytest.fixture(scope="module")
def inventory_bad_url(supergraph_sdl: str, router_url: str) -> Iterator[str]:
    """A router whose inventory URL answers 405 with a plain-text body (the router's /health)."""
    bad = router_url.removesuffix("/graphql") + "/health"
    server = start_router(supergraph_sdl, RouterConfig(override_subgraph_url={"inventory": bad}))
    yield f"{server.url}/graphql"
    server.stop()


def test_non_graphql_response_gives_a_bad_response_error(
    http: httpx.Client, inventory_bad_url: str
) -> None:
    result = http.post(inventory_bad_url, json={"query": STOCK_COUNT}).json()
    assert [p["stockCount"] for p in result["data"]["topProducts"]] == [None, None, None]
    (error,) = result["errors"]
    assert error["extensions"] == {"code": "SUBGRAPH_BAD_RESPONSE", "serviceName": "inventory"}
