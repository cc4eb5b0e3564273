"""Every subgraph: /metrics (requests, outbox lag), /ready, the router's trace continued."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opentelemetry.trace import SpanKind

from shared.bus import Event, InProcessBus
from shared.db import Database
from shared.outbox import backlog, stage
from shared.subgraph import SubgraphRuntime, readiness
from tests.observability.conftest import free_port, metric_value

MENU_QUERY = "query Menu__menu__0 { _service { sdl } }"
CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


async def test_requests_are_counted_by_operation(start_subgraph):
    menu = await start_subgraph("menu", load_demo_data=False)
    response = await menu.post(
        "/graphql", json={"query": MENU_QUERY, "operationName": "Menu__menu__0"}
    )
    assert response.status_code == 200
    text = (await menu.get("/metrics")).text
    assert (
        metric_value(
            text, "subgraph_requests_total", subgraph="menu", operation="Menu__menu__0", status="ok"
        )
        == 1
    )
    assert metric_value(text, "outbox_lag_seconds", subgraph="menu") == 0
    assert metric_value(text, "outbox_pending_events", subgraph="menu") == 0


async def test_ready_checks_the_database(start_subgraph):
    menu = await start_subgraph("menu", load_demo_data=False)
    response = await menu.get("/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}


async def test_not_ready_when_the_database_is_unreachable(settings, tmp_path):
    runtime = SubgraphRuntime.create("menu", settings=settings, bus=InProcessBus())
    url = f"postgresql+asyncpg://pizza:pizza@127.0.0.1:{free_port()}/menu"  # nothing listens
    runtime.db = Database(url=url, migrations_dir=tmp_path)
    checks = await readiness(runtime)
    assert checks["database"].startswith("unreachable")
    await runtime.db.dispose()


async def test_the_subgraph_span_continues_the_callers_trace(start_subgraph, spans):
    menu = await start_subgraph("menu", load_demo_data=False)
    await menu.post("/graphql", json={"query": MENU_QUERY}, headers={"traceparent": CALLER})
    (span,) = [s for s in spans.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert span.name == "subgraph menu"
    assert f"{span.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert f"{span.parent.span_id:016x}" == "b7ad6b7169203331"


async def test_outbox_lag_gauges_follow_the_unrelayed_events(start_subgraph):
    orders = await start_subgraph("orders", load_demo_data=False)
    runtime = orders.runtime
    await runtime.relay.stop()  # as if Redis were down: nothing leaves the outbox
    old = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
    async with runtime.db.session() as session:
        await stage(
            session, Event(type="OrderPlaced", payload={}, source="orders", occurred_at=old)
        )
        await session.commit()
    pending, lag = await backlog(runtime.db)
    assert pending == 1 and 110 < lag < 600
    await runtime.relay.report_backlog()
    text = (await orders.get("/metrics")).text
    assert metric_value(text, "outbox_pending_events", subgraph="orders") == 1
    assert metric_value(text, "outbox_lag_seconds", subgraph="orders") > 110
