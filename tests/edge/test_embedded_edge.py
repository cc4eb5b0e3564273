"""The edge in front of the real supergraph (embedded stack): partners run the committed
manifest's operations by id and nothing else, web clients use APQ, and bad input gets the
right status and code with nothing internal in the answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from router.config import RouterConfig
from router.edge.apq import sha256_hex
from router.server import create_app
from shared import demo_ids
from shared.settings import SUBGRAPH_NAMES, Settings
from subgraphs.embedded import SUPERGRAPH_PATH, EmbeddedStack
from tests.edge.conftest import assert_clean
from tests.router.conftest import ThreadedServer, free_port

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "schema" / "persisted-queries.json"
KIOSK = {"apollographql-client-name": "kiosk"}


def operation(name: str) -> dict[str, Any]:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return next(op for op in manifest["operations"] if op["name"] == name)


def by_id(operation_id: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": operation_id}}


@pytest.fixture(scope="module")
async def edge(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    """Subgraphs of the embedded stack behind a router with the edge configured."""
    stack = EmbeddedStack(
        settings=Settings(data_dir=tmp_path_factory.mktemp("edge-embedded")),
        router_port=0,
        subgraph_ports=dict.fromkeys(SUBGRAPH_NAMES, 0),
    )
    await stack.start()
    config = RouterConfig.from_mapping(
        {
            "override_subgraph_url": stack.subgraph_urls,
            "persisted_queries": {
                "enabled": True,
                "log_unknown": True,
                "local_manifests": [str(MANIFEST)],
                "partners": {"client_names": ["kiosk"]},
            },
            "limits": {"max_depth": 8, "max_aliases": 10, "http_max_request_bytes": 20_000},
            "demand_control": {"enabled": True, "strategy": {"static_estimated": {"max": 5000}}},
        }
    )
    app = create_app(supergraph_sdl=SUPERGRAPH_PATH.read_text(encoding="utf-8"), config=config)
    server = ThreadedServer(app, free_port()).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            yield client
    finally:
        server.stop()
        await stack.stop()


async def test_partner_runs_a_listed_operation_by_id(edge: httpx.AsyncClient) -> None:
    menu = operation("PartnerMenu")
    response = await edge.post(
        "/graphql",
        json={"extensions": by_id(menu["id"]), "variables": {"storeId": demo_ids.STORE_DOWNTOWN}},
        headers=KIOSK,
    )
    body = response.json()
    assert response.status_code == 200, body
    categories = body["data"]["menu"]["categories"]
    products = [product for category in categories for product in category["products"]]
    assert products and products[0]["variants"][0]["price"]["currency"] == "USD"


async def test_partner_freeform_is_refused_even_if_valid(edge: httpx.AsyncClient) -> None:
    response = await edge.post("/graphql", json={"query": "{ stores { id name } }"}, headers=KIOSK)
    assert response.status_code == 403
    assert_clean(response.json())
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_NOT_IN_SAFELIST"
    listed = operation("PartnerStores")["body"]
    assert (await edge.post("/graphql", json={"query": listed}, headers=KIOSK)).json()["data"]


async def test_web_client_uses_apq_over_get(edge: httpx.AsyncClient) -> None:
    query = "{ stores { id } }"
    extensions = json.dumps(by_id(sha256_hex(query)))
    preflight = {"apollo-require-preflight": "true"}
    miss = await edge.get("/graphql", params={"extensions": extensions}, headers=preflight)
    assert miss.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    register = await edge.get(
        "/graphql", params={"query": query, "extensions": extensions}, headers=preflight
    )
    assert register.json()["data"]["stores"]
    hit = await edge.get("/graphql", params={"extensions": extensions}, headers=preflight)
    assert hit.json() == register.json()


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code"),
    [
        (
            {"json": {"query": "{ stores { id } }", "pad": "x" * 30_000}},
            413,
            "INVALID_GRAPHQL_REQUEST",
        ),
        (
            {
                "json": {
                    "query": "{ " + " ".join(f"a{n}: stores {{ id }}" for n in range(11)) + " }"
                }
            },
            200,
            "MAX_ALIASES_LIMIT",
        ),
        (
            {
                "json": {
                    "query": '{ menu(storeId: "x") { categories { subcategories { subcategories'
                    " { subcategories { subcategories { subcategories { subcategories"
                    " { name } } } } } } } } }"
                }
            },
            200,
            "MAX_DEPTH_LIMIT",
        ),
        ({"json": {"extensions": by_id("f" * 64)}}, 200, "PERSISTED_QUERY_NOT_FOUND"),
        (
            {"json": {"query": "{ stores { id } }", "extensions": by_id("0" * 64)}},
            400,
            "PERSISTED_QUERY_HASH_MISMATCH",
        ),
        (
            {"content": b"{}", "headers": {"content-type": "text/plain"}},
            400,
            "CSRF_ERROR",
        ),
        ({"json": [{"query": "{ stores { id } }"}]}, 400, "BATCHING_NOT_ENABLED"),
    ],
)
async def test_bad_input_gets_its_status_and_code(
    edge: httpx.AsyncClient, request_kwargs: dict[str, Any], status: int, code: str
) -> None:
    response = await edge.post("/graphql", **request_kwargs)
    body = response.json()
    assert response.status_code == status, body
    assert_clean(body)
    assert body["errors"][0]["extensions"]["code"] == code
