"""OpenTelemetry tracing for the router, the subgraphs and the event bus.

In: the process's tracing choice: ``configure(service_name=..., otlp_endpoint=...)`` (OTLP over
HTTP, batched), ``configure(exporter=...)`` (tests: an in-memory exporter, exported at once),
or nothing, in which case every span is the OpenTelemetry no-op span and costs next to nothing.
Out: ``tracer()``, W3C ``traceparent`` helpers (``inject``/``extract``/``current_traceparent``)
and the current trace id for log lines.

The process owns one ``TracerProvider`` here rather than OpenTelemetry's global one: the global
can be set only once per process, and tests (and the embedded stack, which runs every service
in one process) need to switch exporters.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import orjson
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import NoOpTracer, Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from shared.logging import request_id_from

_PROPAGATOR = TraceContextTextMapPropagator()
_NOOP = NoOpTracer()
_provider: Any = None  # opentelemetry.sdk.trace.TracerProvider once configured
_service_name = "pizza"

OTLP_ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE_NAME_ENV = "OTEL_SERVICE_NAME"


def configure(
    *,
    service_name: str = "pizza",
    otlp_endpoint: str | None = None,
    exporter: Any = None,
) -> None:
    """Record spans from now on: to ``exporter`` (synchronously) or to an OTLP/HTTP endpoint.

    Without either, tracing stays (or becomes) the no-op.
    """
    global _provider, _service_name
    shutdown()
    if exporter is None and not otlp_endpoint:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = str(otlp_endpoint).rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    _provider, _service_name = provider, service_name


def configure_from_env(*, service_name: str, environ: Mapping[str, str] | None = None) -> None:
    """``configure`` from ``OTEL_EXPORTER_OTLP_ENDPOINT`` (and ``OTEL_SERVICE_NAME``), if set.

    Leaves an exporter configured by a test (or an earlier call) alone when the variable is unset.
    """
    environ = os.environ if environ is None else environ
    endpoint = environ.get(OTLP_ENDPOINT_ENV)
    if endpoint:
        configure(
            service_name=environ.get(SERVICE_NAME_ENV) or service_name, otlp_endpoint=endpoint
        )


def shutdown() -> None:
    """Flush and stop the configured exporter; tracing becomes the no-op."""
    global _provider
    if _provider is not None:
        _provider.shutdown()
    _provider = None


def enabled() -> bool:
    """Whether spans are recorded (an exporter is configured)."""
    return _provider is not None


def tracer(name: str = "pizza") -> Tracer:
    """The tracer spans start from (the no-op tracer when tracing is off)."""
    if _provider is None:
        return _NOOP
    return _provider.get_tracer(name)  # type: ignore[no-any-return]


def inject(carrier: MutableMapping[str, str], span: Span | None = None) -> None:
    """Write ``traceparent`` (and ``tracestate``) for ``span`` (default: the current one)."""
    context = trace.set_span_in_context(span) if span is not None else None
    _PROPAGATOR.inject(carrier, context=context)


def extract(carrier: Mapping[str, str]) -> Context | None:
    """The remote parent in ``carrier``'s ``traceparent``; None when it has none."""
    if "traceparent" not in carrier:
        return None
    return _PROPAGATOR.extract(carrier)


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span; None when there is no recorded span."""
    if _provider is None:
        return None
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def current_trace_id() -> str | None:
    """The current trace id in hex (for log lines); None without a recorded span."""
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


# --- HTTP requests: one span, one record, one log line each -----------------------------------

_RECORD: ContextVar[RequestRecord | None] = ContextVar("pizza_request", default=None)


@dataclass(slots=True)
class RequestRecord:
    """What the middleware learns about one HTTP request while it is served."""

    request_id: str
    method: str
    path: str
    started: float
    operation: str | None = None
    """The GraphQL operation name, when a later stage learned it (``note_operation``)."""
    operation_known: bool = False
    """Whether the operation was valid (only those names become metric labels)."""
    status: int = 0
    errors_body: bytes | None = None
    """The response body when it holds ``"errors"`` (decoded only then)."""
    streamed: bool = False
    body: bytes = b""
    trace_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def error_codes(self) -> list[str]:
        """``extensions.code`` of each top-level error of the response (``UNKNOWN`` if none)."""
        if self.errors_body is None:
            return []
        try:
            payload = orjson.loads(self.errors_body)
        except orjson.JSONDecodeError:
            return []
        items = payload if isinstance(payload, list) else [payload]  # batches
        codes = []
        for item in items:
            for error in (item.get("errors") or ()) if isinstance(item, dict) else ():
                extensions = error.get("extensions") if isinstance(error, dict) else None
                code = extensions.get("code") if isinstance(extensions, dict) else None
                codes.append(str(code) if code else "UNKNOWN")
        return codes


def current_request() -> RequestRecord | None:
    """The record of the HTTP request being served, if any."""
    return _RECORD.get()


def note_operation(name: str | None, *, known: bool = True) -> None:
    """Tell the request's record which GraphQL operation it ran."""
    record = _RECORD.get()
    if record is not None:
        record.operation = name
        record.operation_known = known


class ObservedRequests:
    """ASGI middleware: a server span (parented by the caller's ``traceparent``), a request id
    (``x-request-id``, echoed), and ``on_finish(record)`` once the response is sent.

    Only ``paths`` are observed (``/graphql``); health checks and scrapes pass straight through.
    ``capture_body`` keeps the request body on the record (subgraphs read ``operationName``).
    ``on_websocket(app, scope, receive, send)`` serves WebSocket scopes (e.g. to count them).
    """

    def __init__(
        self,
        app: Any,
        *,
        span_name: str,
        on_finish: Callable[[RequestRecord], None],
        paths: frozenset[str] = frozenset({"/graphql"}),
        capture_body: bool = False,
        on_websocket: Callable[[Any, Scope, Receive, Send], Awaitable[None]] | None = None,
    ) -> None:
        self.app = app
        self.span_name = span_name
        self.on_finish = on_finish
        self.paths = paths
        self.capture_body = capture_body
        self.on_websocket = on_websocket

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and self.on_websocket is not None:
            await self.on_websocket(self.app, scope, receive, send)  # wraps the app
            return
        if scope["type"] != "http" or scope["path"] not in self.paths:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        record = RequestRecord(
            request_id=request_id_from(headers),
            method=scope["method"],
            path=scope["path"],
            started=time.perf_counter(),
        )
        token = _RECORD.set(record)
        try:
            if _provider is None:
                await self._serve(record, scope, receive, send)
            else:
                with tracer("pizza.http").start_as_current_span(
                    self.span_name,
                    context=extract(headers),
                    kind=SpanKind.SERVER,
                    attributes={
                        "http.request.method": record.method,
                        "url.path": record.path,
                        "pizza.request_id": record.request_id,
                    },
                ) as span:
                    record.trace_id = current_trace_id()
                    await self._serve(record, scope, receive, send)
                    span.set_attribute("http.response.status_code", record.status)
                    if record.operation:
                        span.set_attribute("graphql.operation.name", record.operation)
        finally:
            _RECORD.reset(token)
            self.on_finish(record)

    async def _serve(
        self, record: RequestRecord, scope: Scope, receive: Receive, send: Send
    ) -> None:
        request_id = record.request_id.encode("latin-1")
        chunks: list[bytes] = []

        async def receive_body() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    record.body = b"".join(chunks)
            return message

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record.status = message["status"]
                message = {
                    **message,
                    "headers": [*message.get("headers", ()), (b"x-request-id", request_id)],
                }
            elif message["type"] == "http.response.body":
                if message.get("more_body", False) or record.streamed:
                    record.streamed = True  # multipart subscriptions: not buffered
                else:
                    body = message.get("body", b"")
                    if b'"errors"' in body:
                        record.errors_body = body
            await send(message)

        await self.app(scope, receive_body if self.capture_body else receive, observed_send)


# --- Event bus: consumers continue the publisher's trace --------------------------------------


@contextmanager
def consumer_span(event_type: str, *, group: str, traceparent: str | None) -> Iterator[None]:
    """A ``CONSUMER`` span for one event handled by ``group``: a child of the publishing span
    (whose ``traceparent`` the event carries) with a link to it, as OpenTelemetry's messaging
    conventions suggest for asynchronous hand-offs. Nothing when tracing is off."""
    if _provider is None:
        yield
        return
    parent = extract({"traceparent": traceparent}) if traceparent else None
    links = []
    if parent is not None:
        remote = trace.get_current_span(parent).get_span_context()
        if remote.is_valid:
            links.append(trace.Link(remote))
    with tracer("pizza.bus").start_as_current_span(
        f"{event_type} process",
        context=parent,
        kind=SpanKind.CONSUMER,
        links=links,
        attributes={"messaging.operation.type": "process", "messaging.consumer.group.name": group},
    ):
        yield
