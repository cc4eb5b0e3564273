"""Retries (queries only), fail-fast while the breaker is open, and stale responses."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from router import errors
from router.observability import STALE_DATA, SUBGRAPH_CIRCUIT_OPEN, ResilientFetcher
from router.observability.breaker import BreakerState
from router.observability.config import (
    BreakerConfig,
    RetryConfig,
    SubgraphTraffic,
    TrafficConfig,
)
from router.observability.metrics import RouterMetrics
from router.observability.retry import is_query_body

QUERY = orjson.dumps({"query": "query Menu__menu__0{menu{name}}", "variables": {}})
MUTATION = orjson.dumps({"query": "mutation Order__orders__0{placeOrder{id}}", "variables": {}})
GOOD = {"data": {"menu": [{"name": "Margherita"}]}}


class ScriptedFetcher:
    """Answers each fetch with the next scripted outcome (a dict, or an error code)."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[Any, ...]] = []
        self.inflight: dict[str, Any] = {}

    async def fetch(self, service, body, client_headers, *, shareable=False) -> dict[str, Any]:
        self.calls.append((service, body, dict(client_headers), shareable))
        outcome = self.outcomes.pop(0) if self.outcomes else GOOD
        if isinstance(outcome, str):
            raise errors.SubgraphFetchError(f"{service} failed", code=outcome, service=service)
        return dict(outcome)


def resilient(inner: ScriptedFetcher, **traffic: Any) -> ResilientFetcher:
    defaults = SubgraphTraffic(
        breaker=BreakerConfig(failure_threshold=2, cool_down=60),
        retry=RetryConfig(retries=2, backoff=0.001),
    )
    values = {"breaker": defaults.breaker, "retry": defaults.retry, **traffic}
    return ResilientFetcher(
        inner,
        subgraphs=["menu"],
        traffic=TrafficConfig(all=SubgraphTraffic(**values)),
        metrics=RouterMetrics(),
        forwarded={"menu": ("authorization",)},
    )


async def test_queries_are_retried_after_connection_errors():
    inner = ScriptedFetcher(errors.SUBGRAPH_UNAVAILABLE, errors.SUBGRAPH_TIMEOUT, GOOD)
    result = await resilient(inner).fetch("menu", QUERY, {}, shareable=True)
    assert result == GOOD
    assert len(inner.calls) == 3


async def test_mutations_are_never_retried():
    inner = ScriptedFetcher(errors.SUBGRAPH_UNAVAILABLE, GOOD)
    with pytest.raises(errors.SubgraphFetchError):
        await resilient(inner).fetch("menu", MUTATION, {}, shareable=False)
    assert len(inner.calls) == 1


async def test_without_the_shareable_flag_the_body_decides():
    assert is_query_body(QUERY)
    assert is_query_body(orjson.dumps({"query": "{ menu { name } }"}))
    assert not is_query_body(MUTATION)
    inner = ScriptedFetcher(errors.SUBGRAPH_UNAVAILABLE, GOOD)
    with pytest.raises(errors.SubgraphFetchError):
        await resilient(inner).fetch("menu", MUTATION, {})
    assert len(inner.calls) == 1


async def test_non_transient_failures_are_not_retried():
    inner = ScriptedFetcher(errors.SUBGRAPH_BAD_RESPONSE, GOOD)
    with pytest.raises(errors.SubgraphFetchError):
        await resilient(inner).fetch("menu", QUERY, {}, shareable=True)
    assert len(inner.calls) == 1


async def test_open_breaker_fails_fast_without_calling_the_subgraph():
    down = errors.SUBGRAPH_UNAVAILABLE
    inner = ScriptedFetcher(*[down] * 6)
    fetcher = resilient(inner, retry=RetryConfig(enabled=False))
    for _ in range(2):
        with pytest.raises(errors.SubgraphFetchError):
            await fetcher.fetch("menu", QUERY, {}, shareable=True)
    assert fetcher.breakers["menu"].state is BreakerState.OPEN
    with pytest.raises(errors.SubgraphFetchError) as caught:
        await fetcher.fetch("menu", QUERY, {}, shareable=True)
    assert caught.value.code == SUBGRAPH_CIRCUIT_OPEN
    assert len(inner.calls) == 2


async def test_stale_response_is_served_with_a_warning_when_the_subgraph_fails():
    inner = ScriptedFetcher(GOOD, errors.SUBGRAPH_UNAVAILABLE)
    fetcher = resilient(inner, retry=RetryConfig(enabled=False), stale_if_error=300.0)
    assert await fetcher.fetch("menu", QUERY, {"authorization": "a"}, shareable=True) == GOOD
    result = await fetcher.fetch("menu", QUERY, {"authorization": "a"}, shareable=True)
    assert result["data"] == GOOD["data"]
    (warning,) = result["errors"]
    assert warning["extensions"]["code"] == STALE_DATA
    assert warning["extensions"]["cause"] == errors.SUBGRAPH_UNAVAILABLE


async def test_stale_responses_are_kept_per_caller():
    inner = ScriptedFetcher(GOOD, errors.SUBGRAPH_UNAVAILABLE)
    fetcher = resilient(inner, retry=RetryConfig(enabled=False), stale_if_error=300.0)
    await fetcher.fetch("menu", QUERY, {"authorization": "admin"}, shareable=True)
    with pytest.raises(errors.SubgraphFetchError):
        await fetcher.fetch("menu", QUERY, {"authorization": "customer"}, shareable=True)


async def test_other_attributes_reach_the_wrapped_fetcher():
    inner = ScriptedFetcher()
    assert resilient(inner).inflight is inner.inflight
