"""The router's HTTP observability: per-request metrics and log line, WebSocket counts, /ready.

In: each ``/graphql`` request as ``shared.telemetry.ObservedRequests`` recorded it (status,
errors, the operation name the pipeline noted). Out: ``router_requests_total``,
``router_request_duration_seconds``, ``router_errors_total``, subscription counts, and one
JSON log line per request (``shared.logging``).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from router.observability.metrics import RouterMetrics
from shared.logging import log_request
from shared.telemetry import RequestRecord


def finish_request(metrics: RouterMetrics, record: RequestRecord) -> None:
    """Count one finished ``/graphql`` request and log it."""
    seconds = record.seconds
    if record.streamed:  # a multipart subscription: its lifetime is no request latency
        metrics.subscriptions.labels("multipart").inc()
        codes: list[str] = []
        ok = True
    else:
        codes = record.error_codes()
        ok = not codes and record.status < 400
        metrics.observe_request(
            operation=record.operation, known=record.operation_known, ok=ok, seconds=seconds
        )
        metrics.observe_errors(codes)
    log_request(
        service="router",
        request_id=record.request_id,
        trace_id=record.trace_id,
        method=record.method,
        path=record.path,
        status=record.status,
        operation=record.operation,
        outcome="ok" if ok else "error",
        errors=codes or None,
        duration_ms=round(seconds * 1000, 3),
    )


def websocket_counter(metrics: RouterMetrics) -> Any:
    """Serves WebSocket scopes through ``app``, counting connections and subscriptions."""
    connections = metrics.subscription_connections.labels("websocket")
    started = metrics.subscriptions.labels("websocket")

    async def observed(app: Any, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting_receive() -> Message:
            message = await receive()
            if message["type"] == "websocket.receive":
                text = message.get("text") or ""
                if '"subscribe"' in text:  # graphql-transport-ws: {"type":"subscribe",...}
                    started.inc()
            return message

        connections.inc()
        try:
            await app(scope, counting_receive, send)
        finally:
            connections.dec()

    return observed


def health_url(subgraph_url: str) -> str:
    """The ``/health`` beside a subgraph's GraphQL endpoint."""
    parts = urlsplit(subgraph_url)
    return urlunsplit((parts.scheme, parts.netloc, "/health", "", ""))


def readiness_endpoint(gateway: Any) -> Any:
    """``GET /ready``: the supergraph is loaded and the gateway started; with
    ``?subgraphs=true`` also every subgraph's ``/health`` (off by default: one slow subgraph
    must not take every router replica out of the load balancer)."""

    async def ready(request: Request) -> JSONResponse:
        checks: dict[str, str] = {
            "supergraph": "ok" if gateway.supergraph is not None else "missing",
            "gateway": "ok" if gateway.fetcher is not None else "not started",
        }
        if request.query_params.get("subgraphs", "").lower() in ("1", "true"):
            urls = {name: sub.url for name, sub in gateway.supergraph.subgraphs.items()}
            async with httpx.AsyncClient(timeout=2.0) as client:

                async def probe(url: str) -> str:
                    try:
                        response = await client.get(health_url(url))
                    except httpx.HTTPError as exc:
                        return f"unreachable: {type(exc).__name__}"
                    return "ok" if response.status_code == 200 else f"HTTP {response.status_code}"

                results = await asyncio.gather(*(probe(url) for url in urls.values()))
            checks.update({f"subgraph:{name}": r for name, r in zip(urls, results, strict=True)})
        ok = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": checks},
            status_code=200 if ok else 503,
        )

    return ready
