"""Observability and fault tolerance of the router.

In: a ``Gateway`` (its config, supergraph, plan cache, planner and fetcher). Out: the
``/metrics`` and ``/ready`` routes, the request middleware (span, request id, metrics, log
line), and delegating decorators: ``ResilientFetcher`` (breakers, retries, stale responses,
fetch spans and metrics) around the fetcher, ``TracedPlanner`` and ``CountedCache`` around the
planner and the plan cache. ADR 0010 explains the choices.
"""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware
from starlette.routing import Route

from router.observability.fetch import STALE_DATA, SUBGRAPH_CIRCUIT_OPEN, ResilientFetcher
from router.observability.http import finish_request, readiness_endpoint, websocket_counter
from router.observability.metrics import RouterMetrics
from router.observability.tracing import CountedCache, TracedPlanner, operation_span
from shared import telemetry
from shared.logging import configure_logging
from shared.metrics import metrics_endpoint

__all__ = [
    "STALE_DATA",
    "SUBGRAPH_CIRCUIT_OPEN",
    "ResilientFetcher",
    "RouterMetrics",
    "RouterObservability",
    "operation_span",
]


class RouterObservability:
    """One router app's metrics registry and the hooks that feed it."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway
        self.config = gateway.config
        self.metrics = RouterMetrics(max_operation_names=self.config.telemetry.max_operation_names)
        self.metrics.for_subgraphs(gateway.supergraph.subgraphs)  # every series from the start

    @classmethod
    def attach(cls, gateway: Any) -> RouterObservability:
        """Observe ``gateway``: count plan cache hits, trace query planning."""
        observability = cls(gateway)
        gateway.plans = CountedCache(
            gateway.plans,
            hits=observability.metrics.plan_hits,
            misses=observability.metrics.plan_misses,
        )
        gateway.planner = TracedPlanner(gateway.planner)
        return observability

    def start(self) -> None:
        """Process-wide setup at app start: JSON logs, OTLP export when configured."""
        configure_logging()
        telemetry_config = self.config.telemetry
        if telemetry_config.otlp_endpoint:
            telemetry.configure(
                service_name=telemetry_config.service_name,
                otlp_endpoint=telemetry_config.otlp_endpoint,
            )

    def wrap_fetcher(self, fetcher: Any) -> ResilientFetcher:
        """``fetcher`` behind the breakers, retries and stale responses of ``traffic_shaping``."""
        subgraphs = list(self.gateway.supergraph.subgraphs)
        return ResilientFetcher(
            fetcher,
            subgraphs=subgraphs,
            traffic=self.config.traffic,
            metrics=self.metrics,
            forwarded={name: self.config.headers_for(name) for name in subgraphs},
        )

    def middleware(self) -> Middleware:
        """The outermost middleware: span, request id, metrics and log line per request."""
        metrics = self.metrics
        return Middleware(
            telemetry.ObservedRequests,
            span_name="router",
            on_finish=lambda record: finish_request(metrics, record),
            on_websocket=websocket_counter(metrics),
        )

    def routes(self) -> list[Route]:
        """``GET /metrics`` and ``GET /ready``."""
        return [
            Route("/metrics", metrics_endpoint(self.metrics.registry), methods=["GET"]),
            Route("/ready", readiness_endpoint(self.gateway), methods=["GET"]),
        ]
