"""Prometheus metrics shared by the router and the subgraphs.

In: events of a running service (a request served, an outbox pass). Out: a per-app
``CollectorRegistry`` rendered on ``GET /metrics`` in the text exposition format.

Every app owns its registry instead of the process-global one: the embedded stack and the
tests run the router and several subgraphs in one process, and each ``/metrics`` must show
only its own service. The names are the contract in docs/deployment.md ("Metrics contract");
``deploy/observability`` alerts and the dashboard use exactly those.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from starlette.requests import Request
from starlette.responses import Response

# Seconds; GraphQL requests are mostly fast, the tail is what the alerts look at.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OTHER = "other"
ANONYMOUS = "anonymous"


class BoundedLabel:
    """Label values from clients (operation names, codes), capped so series stay bounded.

    The first ``limit`` distinct values keep their name; later ones become ``fallback``.
    """

    def __init__(self, *, limit: int = 200, fallback: str = OTHER, max_length: int = 100) -> None:
        self.limit = limit
        self.fallback = fallback
        self.max_length = max_length
        self.known: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self.known:
            return value
        if len(self.known) >= self.limit or len(value) > self.max_length:
            return self.fallback
        self.known.add(value)
        return value


def metrics_endpoint(registry: CollectorRegistry) -> Any:
    """A Starlette endpoint serving ``registry``."""

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics


class SubgraphMetrics:
    """What a subgraph exposes: its requests, and its outbox backlog (contract metrics)."""

    def __init__(self, subgraph: str) -> None:
        self.subgraph = subgraph
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "subgraph_requests_total",
            "GraphQL requests served by this subgraph",
            ["subgraph", "operation", "status"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "subgraph_request_duration_seconds",
            "Subgraph request duration, receipt to last byte",
            ["subgraph", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.outbox_lag = Gauge(
            "outbox_lag_seconds",
            "Age of the oldest outbox event not yet relayed (0 when empty)",
            ["subgraph"],
            registry=self.registry,
        ).labels(subgraph)
        self.outbox_pending = Gauge(
            "outbox_pending_events",
            "Outbox events not yet relayed",
            ["subgraph"],
            registry=self.registry,
        ).labels(subgraph)
        self.operation = BoundedLabel()
        self._children: dict[tuple[str, bool], tuple[Any, Any]] = {}

    def observe_request(self, *, operation: str | None, ok: bool, seconds: float) -> None:
        """Count one request (labels resolved once per operation and outcome)."""
        label = self.operation(operation) if operation else ANONYMOUS
        children = self._children.get((label, ok))
        if children is None:
            children = (
                self.requests.labels(self.subgraph, label, "ok" if ok else "error"),
                self.duration.labels(self.subgraph, label),
            )
            self._children[(label, ok)] = children
        children[0].inc()
        children[1].observe(seconds)
