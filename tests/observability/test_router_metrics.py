"""The router's /metrics holds the contract's series after requests; /ready; the log line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from router.config import RouterConfig
from shared.logging import ACCESS_LOGGER
from tests.observability.conftest import RunningRouter, metric_value

pytestmark = pytest.mark.npm

TOP_PRODUCTS = "query TopProducts { topProducts { upc name } }"
INVALID = "query Broken { nope }"


@pytest.fixture(scope="module")
def router(supergraph_sdl: str) -> Iterator[RunningRouter]:
    running = RunningRouter(supergraph_sdl, RouterConfig())
    yield running
    running.stop()


def scrape(http: httpx.Client, router: RunningRouter) -> str:
    response = http.get(f"{router.base}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_requests_and_fetches_are_counted_by_operation_and_subgraph(http, router):
    http.post(router.url, json={"query": TOP_PRODUCTS, "operationName": "TopProducts"})
    text = scrape(http, router)
    assert metric_value(text, "router_requests_total", operation="TopProducts", status="ok") >= 1
    assert metric_value(text, "router_request_duration_seconds_count", operation="TopProducts") >= 1
    assert (
        metric_value(text, "router_subgraph_requests_total", subgraph="products", status="ok") >= 1
    )
    assert (
        metric_value(text, "router_subgraph_request_duration_seconds_count", subgraph="products")
        >= 1
    )
    assert metric_value(text, "router_breaker_state", subgraph="inventory") == 0
    assert metric_value(text, "router_plan_cache_total", result="miss") >= 1


def test_errors_are_counted_by_code_and_invalid_operation_names_fold_to_other(http, router):
    http.post(router.url, json={"query": INVALID, "operationName": "Broken"})
    text = scrape(http, router)
    assert metric_value(text, "router_errors_total", code="GRAPHQL_VALIDATION_FAILED") >= 1
    assert metric_value(text, "router_requests_total", operation="other", status="error") >= 1
    assert metric_value(text, "router_requests_total", operation="Broken", status="error") is None


def test_warm_requests_hit_the_plan_cache(http, router):
    for _ in range(2):
        http.post(router.url, json={"query": TOP_PRODUCTS})
    assert metric_value(scrape(http, router), "router_plan_cache_total", result="hit") >= 1


def test_ready_reports_the_supergraph_and_optionally_the_subgraphs(http, router):
    assert http.get(f"{router.base}/ready").json()["checks"] == {
        "supergraph": "ok",
        "gateway": "ok",
    }
    deep = http.get(f"{router.base}/ready", params={"subgraphs": "true"})
    # The test subgraphs serve GraphQL on every path, so /health answers 200 (GET → GraphiQL off).
    assert set(deep.json()["checks"]) >= {"subgraph:products", "subgraph:inventory"}


def test_one_json_log_line_per_request_with_request_id_and_trace_id(http, router, spans):
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    try:
        response = http.post(
            router.url, json={"query": TOP_PRODUCTS}, headers={"x-request-id": "req-42"}
        )
    finally:
        logger.removeHandler(handler)
    assert response.headers["x-request-id"] == "req-42"
    (line,) = [json.loads(line) for line in lines if '"router"' in line]
    assert line["event"] == "request"
    assert line["request_id"] == "req-42"
    assert line["status"] == 200 and line["outcome"] == "ok"
    (root,) = [s for s in spans.get_finished_spans() if s.name == "router"]
    assert line["trace_id"] == f"{root.context.trace_id:032x}"
