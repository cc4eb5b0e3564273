"""Fault tolerance and instrumentation around the router's subgraph fetcher.

In: the same calls as ``router.fetcher.SubgraphFetcher.fetch`` (forwarded as ``*args,
**kwargs``: service name, body, client headers, ``shareable``). Out: the same decoded
responses, or ``SubgraphFetchError``. On the way, per subgraph:

- a circuit breaker (``router.observability.breaker``): while open, fetches fail at once with
  ``SUBGRAPH_CIRCUIT_OPEN``;
- retries of queries after connection errors, timeouts and 5xx (``router.observability.retry``);
- ``stale_if_error``: the last good response to the same query (same body and forwarded
  headers) is served again, with a ``STALE_DATA`` error, when the subgraph fails;
- a ``fetch`` span whose ``traceparent`` goes to the subgraph; the fetch metrics.

A decorator rather than a change to ``router.fetcher``: transport and resilience evolve apart,
and anything else the fetcher offers is reached through attribute delegation.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from opentelemetry.trace import SpanKind, Status, StatusCode

from router import errors
from router.observability.breaker import CircuitBreaker
from router.observability.config import SubgraphTraffic, TrafficConfig
from router.observability.metrics import RouterMetrics
from router.observability.retry import backoff_delay, is_query_body, retryable
from shared import telemetry

SUBGRAPH_CIRCUIT_OPEN = "SUBGRAPH_CIRCUIT_OPEN"
STALE_DATA = "STALE_DATA"
_STALE_ENTRIES = 1000


class StaleResponses:
    """The last good response per query of one subgraph, kept ``ttl`` seconds (bounded LRU)."""

    def __init__(self, ttl: float, *, size: int = _STALE_ENTRIES) -> None:
        self.ttl = ttl
        self.size = size
        self.entries: OrderedDict[Any, tuple[float, bytes]] = OrderedDict()

    def keep(self, key: Any, payload: dict[str, Any]) -> None:
        # Serialized now: the executor merges into (and so changes) the dict it receives.
        self.entries[key] = (time.monotonic(), orjson.dumps(payload))
        self.entries.move_to_end(key)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)

    def get(self, key: Any) -> tuple[float, dict[str, Any]] | None:
        """(age in seconds, a fresh copy of the response), or None when none is fresh enough."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        age = time.monotonic() - entry[0]
        if age > self.ttl:
            del self.entries[key]
            return None
        return age, orjson.loads(entry[1])


class ResilientFetcher:
    """Delegating decorator: breaker, retries, stale responses, spans and metrics per subgraph."""

    def __init__(
        self,
        inner: Any,
        *,
        subgraphs: Iterable[str],
        traffic: TrafficConfig,
        metrics: RouterMetrics,
        forwarded: Mapping[str, tuple[str, ...]],
    ) -> None:
        self.inner = inner
        names = list(subgraphs)
        self.instruments = metrics.for_subgraphs(names)
        self.traffic: dict[str, SubgraphTraffic] = {n: traffic.for_subgraph(n) for n in names}
        self.breakers = {
            name: CircuitBreaker(
                self.traffic[name].breaker,
                on_change=self.instruments[name].breaker_state.set,
            )
            for name in names
        }
        self.stale = {
            name: StaleResponses(t.stale_if_error)
            for name, t in self.traffic.items()
            if t.stale_if_error
        }
        self.forwarded = forwarded

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def fetch(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """``inner.fetch(*args, **kwargs)`` with the subgraph's fault tolerance."""
        service = args[0] if args else kwargs["service"]
        instruments = self.instruments.get(service)
        if instruments is None:  # not a subgraph of the supergraph: nothing to add
            return await self.inner.fetch(*args, **kwargs)  # type: ignore[no-any-return]
        started = time.perf_counter()
        ok = False
        try:
            if telemetry.enabled():
                payload = await self._traced(service, args, kwargs)
            else:
                payload = await self._resilient(service, args, kwargs)
            ok = not payload.get("errors")
            return payload
        finally:
            (instruments.oks if ok else instruments.errors).inc()
            instruments.duration.observe(time.perf_counter() - started)

    async def _traced(
        self, service: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        with telemetry.tracer("router").start_as_current_span(
            "fetch", kind=SpanKind.CLIENT, attributes={"subgraph.name": service}
        ) as span:
            # The subgraph's span is this span's child: send its traceparent.
            if len(args) > 2:
                headers = dict(args[2])
                telemetry.inject(headers)
                args = (*args[:2], headers, *args[3:])
            elif "client_headers" in kwargs:
                headers = dict(kwargs["client_headers"])
                telemetry.inject(headers)
                kwargs = {**kwargs, "client_headers": headers}
            try:
                payload = await self._resilient(service, args, kwargs)
            except errors.SubgraphFetchError as error:
                span.set_status(Status(StatusCode.ERROR, error.code))
                span.set_attribute("error.type", error.code)
                raise
            if payload.get("errors"):
                span.set_attribute("graphql.errors", len(payload["errors"]))
            return payload

    async def _resilient(
        self, service: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        traffic = self.traffic[service]
        breaker = self.breakers[service]
        body = args[1] if len(args) > 1 else kwargs.get("body")
        query = bool(kwargs["shareable"]) if "shareable" in kwargs else is_query_body(body)
        stale = self.stale.get(service) if query else None
        key = self._stale_key(service, body, args, kwargs) if stale is not None else None
        if not breaker.allow():
            error = errors.SubgraphFetchError(
                f"Subgraph '{service}' is failing: its circuit breaker is open",
                code=SUBGRAPH_CIRCUIT_OPEN,
                service=service,
            )
            return self._stale_or_raise(service, stale, key, error)
        retries = traffic.retry.retries if (query and traffic.retry.enabled) else 0
        attempt = 0
        failure: errors.SubgraphFetchError | None = None
        payload: dict[str, Any] = {}
        try:
            while True:
                try:
                    payload = await self.inner.fetch(*args, **kwargs)
                    break
                except errors.SubgraphFetchError as error:
                    if attempt >= retries or not retryable(error):
                        failure = error
                        break
                    attempt += 1
                    self.instruments[service].retries.inc()
                    await asyncio.sleep(backoff_delay(traffic.retry, attempt))
        except BaseException:
            breaker.released()  # cancelled or unexpected: no verdict on the subgraph
            raise
        if failure is not None:
            breaker.failed()
            return self._stale_or_raise(service, stale, key, failure)
        breaker.succeeded()
        if stale is not None and not payload.get("errors"):
            stale.keep(key, payload)
        return payload

    def _stale_key(
        self, service: str, body: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        # Responses may differ by caller: the forwarded headers are part of the key.
        headers = args[2] if len(args) > 2 else kwargs.get("client_headers") or {}
        return (body, tuple(headers.get(n) for n in self.forwarded.get(service, ())))

    def _stale_or_raise(
        self,
        service: str,
        stale: StaleResponses | None,
        key: Any,
        error: errors.SubgraphFetchError,
    ) -> dict[str, Any]:
        cached = stale.get(key) if stale is not None else None
        if cached is None:
            raise error
        age, payload = cached
        self.instruments[service].stale.inc()
        warning = errors.graphql_error(
            f"Subgraph '{service}' is failing ({error.code}): this is its last good response, "
            f"{age:.0f}s old",
            code=STALE_DATA,
            extra={"serviceName": service, "ageSeconds": round(age, 3), "cause": error.code},
        )
        payload.setdefault("errors", []).append(warning)
        return payload
