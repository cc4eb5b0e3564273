"""In-flight deduplication (``--deduplicate-inflight``): identical concurrent queries run once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from router.config import RouterConfig
from router.server import create_app
from tests.router.conftest import ThreadedServer, free_port
from tests.router.subgraphs.recording import RequestLog

pytestmark = pytest.mark.npm

SLOW = "{ slowAccounts }"
RENAME = 'mutation { renameUser(id: "9", name: "nobody") { name } }'  # no such user: no change


@pytest.fixture(scope="module")
def dedup_url(supergraph_sdl: str, subgraph_urls: dict[str, str]) -> Iterator[str]:
    """A router started with in-flight deduplication."""
    app = create_app(
        supergraph_sdl=supergraph_sdl, config=RouterConfig(), deduplicate_inflight=True
    )
    server = ThreadedServer(app, free_port()).start()
    yield f"{server.url}/graphql"
    server.stop()


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
    dedup_url: str, request_log: RequestLog
) -> None:
    request_log.clear()
    responses = post_concurrently(dedup_url, SLOW, [{}] * 5)
    assert [r.json() for r in responses] == [{"data": {"slowAccounts": "accounts"}}] * 5
    assert len(request_log.for_service("accounts")) == 1


def test_requests_with_different_headers_are_not_shared(
    dedup_url: str, request_log: RequestLog
) -> None:
    request_log.clear()
    headers = [{"authorization": "Bearer a"}, {"authorization": "Bearer b"}]
    responses = post_concurrently(dedup_url, SLOW, headers)
    assert all(r.status_code == 200 for r in responses)
    assert len(request_log.for_service("accounts")) == 2


def test_finished_requests_are_not_reused(dedup_url: str, request_log: RequestLog) -> None:
    request_log.clear()
    post_concurrently(dedup_url, SLOW, [{}])
    post_concurrently(dedup_url, SLOW, [{}])
    assert len(request_log.for_service("accounts")) == 2


def test_mutations_always_run(dedup_url: str, request_log: RequestLog) -> None:
    request_log.clear()
    responses = post_concurrently(dedup_url, RENAME, [{}] * 2)
    assert [r.json()["data"] for r in responses] == [{"renameUser": None}] * 2
    assert len(request_log.for_service("accounts")) == 2


def test_without_the_option_every_request_runs(router_url: str, request_log: RequestLog) -> None:
    request_log.clear()
    post_concurrently(router_url, SLOW, [{}] * 3)
    assert len(request_log.for_service("accounts")) == 3


def test_the_body_size_limit_still_applies(dedup_url: str, http: httpx.Client) -> None:
    padding = "x" * 3_000_000
    response = http.post(dedup_url, json={"query": SLOW, "extensions": {"padding": padding}})
    assert response.status_code == 413
