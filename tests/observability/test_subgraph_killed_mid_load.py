"""A subgraph killed and restarted under load: its breaker opens, probes and closes, queries
that do not touch it never see an error, and ``stale_if_error`` answers from the last good
response while a subgraph is down."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from router.config import RouterConfig
from router.observability import STALE_DATA, SUBGRAPH_CIRCUIT_OPEN
from router.observability.breaker import BreakerState
from router.observability.config import BreakerConfig, RetryConfig, SubgraphTraffic, TrafficConfig
from tests.observability.conftest import KillableSubgraph, RunningRouter, metric_value

pytestmark = pytest.mark.npm

NOT_TOUCHING_INVENTORY = "{ topProducts { upc name } me { name } }"
TOUCHING_INVENTORY = "{ warehouseName }"
TOP_PRODUCTS = "{ topProducts { upc name price } }"

FAST_BREAKER = SubgraphTraffic(
    breaker=BreakerConfig(failure_threshold=3, cool_down=0.3),
    retry=RetryConfig(retries=1, backoff=0.005),
)


@pytest.fixture
def inventory(request_log) -> Iterator[KillableSubgraph]:
    subgraph = KillableSubgraph("inventory", request_log)
    subgraph.start()
    yield subgraph
    subgraph.kill()


class Load:
    """Threads sending one query in a loop, keeping every response."""

    def __init__(self, url: str, query: str, *, workers: int = 2) -> None:
        self.url = url
        self.query = query
        self.results: list[dict] = []
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self.stopping.is_set():
                self.results.append(client.post(self.url, json={"query": self.query}).json())
                time.sleep(0.005)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)


def wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_breaker_cycles_while_other_queries_stay_error_free(supergraph_sdl, inventory, http):
    config = RouterConfig(
        override_subgraph_url={"inventory": inventory.url},
        traffic=TrafficConfig(all=FAST_BREAKER),
    )
    router = RunningRouter(supergraph_sdl, config)
    try:
        breaker = router.gateway.fetcher.breakers["inventory"]
        transitions: list[BreakerState] = []
        gauge_set = breaker.on_change
        breaker.on_change = lambda state: (transitions.append(state), gauge_set(state))

        with (
            Load(router.url, NOT_TOUCHING_INVENTORY) as healthy,
            Load(router.url, TOUCHING_INVENTORY) as dependent,
        ):
            wait_for(lambda: len(dependent.results) > 5)
            inventory.kill()
            wait_for(lambda: BreakerState.OPEN in transitions)
            scrape = http.get(f"{router.base}/metrics").text
            assert metric_value(scrape, "router_breaker_state", subgraph="inventory") == 2
            wait_for(lambda: BreakerState.HALF_OPEN in transitions)  # probes fail: opens again
            inventory.start()
            wait_for(lambda: transitions[-1] is BreakerState.CLOSED)
            served = len(dependent.results)
            wait_for(lambda: len(dependent.results) > served + 5)

        assert transitions[0] is BreakerState.OPEN
        assert transitions[-1] is BreakerState.CLOSED
        assert BreakerState.HALF_OPEN in transitions
        assert healthy.results and all("errors" not in r for r in healthy.results)
        codes = {
            e.get("extensions", {}).get("code")
            for r in dependent.results
            for e in r.get("errors", ())
        }
        assert SUBGRAPH_CIRCUIT_OPEN in codes  # failed fast while open
        assert "errors" not in dependent.results[-1]  # and recovered
        scrape = http.get(f"{router.base}/metrics").text
        assert metric_value(scrape, "router_breaker_state", subgraph="inventory") == 0
    finally:
        router.stop()


@pytest.fixture
def products(request_log) -> Iterator[KillableSubgraph]:
    subgraph = KillableSubgraph("products", request_log)
    subgraph.start()
    yield subgraph
    subgraph.kill()


def test_stale_if_error_serves_the_last_good_response_while_the_subgraph_is_down(
    supergraph_sdl, products, http
):
    cached = SubgraphTraffic(retry=RetryConfig(enabled=False), stale_if_error=300.0)
    config = RouterConfig(
        override_subgraph_url={"products": products.url},
        traffic=TrafficConfig(subgraphs={"products": cached}),
    )
    router = RunningRouter(supergraph_sdl, config)
    try:
        fresh = http.post(router.url, json={"query": TOP_PRODUCTS}).json()
        assert "errors" not in fresh
        products.kill()
        stale = http.post(router.url, json={"query": TOP_PRODUCTS}).json()
        assert stale["data"] == fresh["data"]
        (warning,) = stale["errors"]
        assert warning["extensions"]["code"] == STALE_DATA
        assert warning["extensions"]["serviceName"] == "products"
        other = http.post(router.url, json={"query": "{ topProducts(first: 1) { upc } }"}).json()
        assert other["errors"][0]["extensions"]["code"] == "SUBGRAPH_UNAVAILABLE"  # never cached
    finally:
        router.stop()
