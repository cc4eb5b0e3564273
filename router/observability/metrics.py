"""The router's Prometheus metrics (docs/deployment.md, "Metrics contract").

In: finished requests, subgraph fetches, breaker transitions, plan cache lookups and
subscriptions. Out: the series on the router's ``GET /metrics``. Label children are resolved
once per subgraph (at start) and once per operation name, so the hot path only increments.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shared.metrics import ANONYMOUS, LATENCY_BUCKETS, OTHER, BoundedLabel


class SubgraphInstruments:
    """The label children of one subgraph."""

    __slots__ = ("breaker_state", "duration", "errors", "oks", "retries", "stale")

    def __init__(self, metrics: RouterMetrics, name: str) -> None:
        self.oks = metrics.subgraph_requests.labels(name, "ok")
        self.errors = metrics.subgraph_requests.labels(name, "error")
        self.duration = metrics.subgraph_duration.labels(name)
        self.breaker_state = metrics.breaker_state.labels(name)
        self.retries = metrics.retries.labels(name)
        self.stale = metrics.stale_responses.labels(name)


class RouterMetrics:
    """Every metric the router exposes, in its own registry."""

    def __init__(self, *, max_operation_names: int = 200) -> None:
        registry = self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "router_requests_total",
            "GraphQL requests served by the router",
            ["operation", "status"],
            registry=registry,
        )
        self.duration = Histogram(
            "router_request_duration_seconds",
            "Request duration, receipt to last byte",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.subgraph_requests = Counter(
            "router_subgraph_requests_total",
            "Router to subgraph fetches",
            ["subgraph", "status"],
            registry=registry,
        )
        self.subgraph_duration = Histogram(
            "router_subgraph_request_duration_seconds",
            "Subgraph fetch duration (all attempts)",
            ["subgraph"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "router_errors_total", "Errors returned to clients", ["code"], registry=registry
        )
        self.breaker_state = Gauge(
            "router_breaker_state",
            "Circuit breaker state: 0 closed, 1 half-open, 2 open",
            ["subgraph"],
            registry=registry,
        )
        self.retries = Counter(
            "router_subgraph_retries_total",
            "Subgraph fetches retried (queries only)",
            ["subgraph"],
            registry=registry,
        )
        self.stale_responses = Counter(
            "router_subgraph_stale_responses_total",
            "Cached subgraph responses served because the subgraph failed (stale_if_error)",
            ["subgraph"],
            registry=registry,
        )
        plan_cache = Counter(
            "router_plan_cache_total",
            "Query plan cache lookups",
            ["result"],
            registry=registry,
        )
        self.plan_hits, self.plan_misses = plan_cache.labels("hit"), plan_cache.labels("miss")
        self.subscriptions = Counter(
            "router_subscriptions_total",
            "Subscriptions started by clients",
            ["transport"],
            registry=registry,
        )
        self.subscription_connections = Gauge(
            "router_subscription_connections",
            "Open subscription connections (WebSockets, multipart HTTP streams)",
            ["transport"],
            registry=registry,
        )
        self.operation = BoundedLabel(limit=max_operation_names)
        self.code = BoundedLabel(limit=100, fallback="OTHER")
        self._request_children: dict[tuple[str, bool], tuple[Any, Any]] = {}
        self._error_children: dict[str, Any] = {}
        self.subgraphs: dict[str, SubgraphInstruments] = {}

    def for_subgraphs(self, names: Iterable[str]) -> dict[str, SubgraphInstruments]:
        """Resolve (once) and return the label children of these subgraphs."""
        for name in names:
            if name not in self.subgraphs:
                self.subgraphs[name] = SubgraphInstruments(self, name)
        return self.subgraphs

    def observe_request(
        self, *, operation: str | None, known: bool, ok: bool, seconds: float
    ) -> None:
        # Names of operations that never ran (invalid, refused) would be unbounded: "other".
        label = OTHER if operation is not None and not known else ANONYMOUS
        if operation is not None and known:
            label = self.operation(operation)
        children = self._request_children.get((label, ok))
        if children is None:
            children = (
                self.requests.labels(label, "ok" if ok else "error"),
                self.duration.labels(label),
            )
            self._request_children[(label, ok)] = children
        children[0].inc()
        children[1].observe(seconds)

    def observe_errors(self, codes: Iterable[str]) -> None:
        for code in codes:
            label = self.code(code)
            child = self._error_children.get(label)
            if child is None:
                child = self._error_children[label] = self.errors.labels(label)
            child.inc()
