"""In-flight deduplication.

Inbound (``--deduplicate-inflight``): identical concurrent client queries execute once.
Subgraph fetches (always on): identical concurrent query fetches share one HTTP exchange.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from router.config import RouterConfig
from router.server import create_app
from tests.router.conftest import ThreadedServer, free_port
from tests.router.subgraphs.recording import RequestLog

pytestmark = pytest.mark.npm

SLOW = "{ slowAccounts }"
RENAME = 'mutation { renameUser(id: "9", name: "nobody") { name } }'  # no such user: no change


class Executions:
    """Counts the router's executions (``Gateway.execute`` calls)."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture(scope="module")
def dedup_router(
    supergraph_sdl: str, subgraph_urls: dict[str, str]
) -> Iterator[tuple[str, Executions]]:
    """A router started with inbound in-flight deduplication, and its execution count."""
    app = create_app(
        supergraph_sdl=supergraph_sdl, config=RouterConfig(), deduplicate_inflight=True
    )
    gateway = app.state.gateway
    executions = Executions()
    execute = gateway.execute

    async def counted(**kwargs: Any) -> dict[str, Any]:
        executions.count += 1
        return await execute(**kwargs)

    gateway.execute = counted
    server = ThreadedServer(app, free_port()).start()
    yield f"{server.url}/graphql", executions
    server.stop()


@pytest.fixture
def dedup_url(dedup_router: tuple[str, Executions]) -> str:
    dedup_router[1].count = 0
    return dedup_router[0]


def post_concurrently(url: str, query: str, headers: list[dict[str, str]]) -> list[httpx.Response]:
    """One request per entry of ``headers``, all sent at once."""

    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=10) as client:
            return list(
                await asyncio.gather(
                    *(client.post(url, json={"query": query}, headers=h) for h in headers)
                )
            )

    return asyncio.run(run())


def test_identical_concurrent_queries_share_one_execution(
    dedup_url: str, dedup_router: tuple[str, Executions]
) -> None:
    responses = post_concurrently(dedup_url, SLOW, [{}] * 5)
    assert [r.json() for r in responses] == [{"data": {"slowAccounts": "accounts"}}] * 5
    assert dedup_router[1].count == 1


def test_requests_with_different_headers_are_not_shared(
    dedup_url: str, dedup_router: tuple[str, Executions]
) -> None:
    headers = [{"x-client": "a"}, {"x-client": "b"}]
    responses = post_concurrently(dedup_url, SLOW, headers)
    assert all(r.status_code == 200 for r in responses)
    assert dedup_router[1].count == 2


def test_finished_requests_are_not_reused(
    dedup_url: str, dedup_router: tuple[str, Executions]
) -> None:
    post_concurrently(dedup_url, SLOW, [{}])
    post_concurrently(dedup_url, SLOW, [{}])
    assert dedup_router[1].count == 2


def test_mutations_always_run(dedup_url: str, dedup_router: tuple[str, Executions]) -> None:
    responses = post_concurrently(dedup_url, RENAME, [{}] * 2)
    assert [r.json()["data"] for r in responses] == [{"renameUser": None}] * 2
    assert dedup_router[1].count == 2


def test_identical_concurrent_subgraph_queries_share_one_fetch(
    router_url: str, request_log: RequestLog
) -> None:
    request_log.clear()
    responses = post_concurrently(router_url, SLOW, [{}] * 3)
    assert [r.json() for r in responses] == [{"data": {"slowAccounts": "accounts"}}] * 3
    assert len(request_log.for_service("accounts")) == 1


def test_subgraph_fetches_with_different_forwarded_headers_are_not_shared(
    router_url: str, request_log: RequestLog
) -> None:
    request_log.clear()
    post_concurrently(router_url, SLOW, [{"x-tenant": "a"}, {"x-tenant": "b"}])
    assert len(request_log.for_service("accounts")) == 2


def test_subgraph_mutations_are_never_shared(router_url: str, request_log: RequestLog) -> None:
    request_log.clear()
    post_concurrently(router_url, RENAME, [{}] * 2)
    assert len(request_log.for_service("accounts")) == 2


def test_finished_subgraph_fetches_are_not_reused(router_url: str, request_log: RequestLog) -> None:
    request_log.clear()
    post_concurrently(router_url, SLOW, [{}])
    post_concurrently(router_url, SLOW, [{}])
    assert len(request_log.for_service("accounts")) == 2


def test_the_body_size_limit_still_applies(dedup_url: str, http: httpx.Client) -> None:
    padding = "x" * 3_000_000
    response = http.post(dedup_url, json={"query": SLOW, "extensions": {"padding": padding}})
    assert response.status_code == 413
