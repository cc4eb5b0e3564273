"""Spans: router request → supergraph operation → query planning and subgraph fetches; the
subgraph receives the fetch span's ``traceparent``; event consumers continue the publisher's
trace."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.trace import SpanKind

from router.config import RouterConfig
from router.observability.config import TelemetryConfig
from shared import telemetry
from shared.bus import Event, InProcessBus
from tests.observability.conftest import RunningRouter

REVIEWS_WITH_AUTHORS = "query Reviews { topProducts { name reviews { body author { name } } } }"


@pytest.fixture(scope="module")
def traced_router(supergraph_sdl: str) -> Iterator[RunningRouter]:
    running = RunningRouter(supergraph_sdl, RouterConfig(telemetry=TelemetryConfig(tracing=True)))
    yield running
    running.stop()


@pytest.mark.npm
def test_request_operation_planning_and_fetch_spans_form_one_tree(
    http, traced_router, request_log, spans
):
    request_log.clear()
    response = http.post(traced_router.url, json={"query": REVIEWS_WITH_AUTHORS})
    assert "errors" not in response.json()
    finished = spans.get_finished_spans()
    (root,) = [s for s in finished if s.name == "router"]
    (operation,) = [s for s in finished if s.name == "supergraph"]
    (planning,) = [s for s in finished if s.name == "query_planning"]
    fetches = [s for s in finished if s.name == "fetch"]
    assert root.parent is None and root.kind is SpanKind.SERVER
    assert operation.parent.span_id == root.context.span_id
    assert planning.parent.span_id == operation.context.span_id
    assert {s.attributes["subgraph.name"] for s in fetches} == {"products", "reviews", "accounts"}
    assert all(s.parent.span_id == operation.context.span_id for s in fetches)
    assert {s.context.trace_id for s in finished} == {root.context.trace_id}

    # Each subgraph request carries the traceparent of its own fetch span.
    sent = {tuple(r.headers["traceparent"].split("-")[1:3]) for r in request_log.requests}
    assert sent == {(f"{s.context.trace_id:032x}", f"{s.context.span_id:016x}") for s in fetches}


@pytest.mark.npm
def test_the_callers_traceparent_parents_the_router_span(http, traced_router, spans):
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    http.post(
        traced_router.url,
        json={"query": "{ topProducts { upc } }"},
        headers={"traceparent": caller},
    )
    (root,) = [s for s in spans.get_finished_spans() if s.name == "router"]
    assert f"{root.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert f"{root.parent.span_id:016x}" == "b7ad6b7169203331"


async def test_event_consumers_continue_the_publishing_trace(spans):
    bus = InProcessBus()
    handled: list[Event] = []

    async def handler(event: Event) -> None:
        handled.append(event)

    bus.subscribe(group="notifications", types=["OrderPlaced"], handler=handler)
    await bus.start()
    try:
        with telemetry.tracer().start_as_current_span("placeOrder request") as request_span:
            await bus.publish(Event(type="OrderPlaced", payload={"orderId": "o1"}, source="orders"))
        await bus.drain()
    finally:
        await bus.stop()
    (event,) = handled
    assert event.traceparent is not None
    (consumer,) = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    assert consumer.context.trace_id == request_span.get_span_context().trace_id
    assert consumer.parent.span_id == request_span.get_span_context().span_id
    assert [link.context.span_id for link in consumer.links] == [
        request_span.get_span_context().span_id
    ]


def test_events_without_trace_context_still_load():
    old = b'{"id":"evt_1","type":"OrderPlaced","source":"orders","occurredAt":"2026-01-01T00:00:00+00:00","payload":{}}'
    event = Event.from_json(old)
    assert event.traceparent is None
    assert Event.from_json(event.to_json()) == event


def test_without_an_exporter_events_carry_no_trace_context():
    assert not telemetry.enabled()
    assert Event(type="OrderPlaced", payload={}, source="orders").traceparent is None
