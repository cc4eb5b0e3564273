"""Events relayed late stay in the trace of the transaction that staged them."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, Text, select

from shared import outbox, telemetry
from shared.bus import Event, InProcessBus
from shared.db import Database, UTCDateTime

metadata = MetaData()
outbox_rows = outbox.outbox_table(metadata)

legacy_metadata = MetaData()
Table(  # the outbox as migrated before it kept trace context
    outbox.TABLE,
    legacy_metadata,
    Column("id", String(64), primary_key=True),
    Column("type", String(60), nullable=False),
    Column("source", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("published_at", UTCDateTime(), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text, nullable=True),
)


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans recorded while the test runs (tracing on, in memory)."""
    exporter = InMemorySpanExporter()
    telemetry.configure(service_name="test", exporter=exporter)
    yield exporter
    telemetry.shutdown()


async def _database(url: str, tmp_path: Path, schema: MetaData = metadata) -> Database:
    db = Database(url=url, migrations_dir=tmp_path)
    async with db.engine.begin() as connection:
        await connection.run_sync(schema.create_all)
    return db


@pytest.fixture
async def db_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'o.db'}"


@pytest.fixture
async def consumed() -> AsyncIterator[tuple[InProcessBus, list[Event]]]:
    """An in-process bus whose consumer group ``notifications`` records what it handled."""
    bus, handled = InProcessBus(), []

    async def handler(event: Event) -> None:
        handled.append(event)

    bus.subscribe(group="notifications", types=["ThingMade"], handler=handler)
    await bus.start()
    yield bus, handled
    await bus.stop()


async def _stage_in_a_request(db: Database) -> tuple[Event, str]:
    """Stage one event inside a request span and commit without publishing (then "crash")."""
    with telemetry.tracer().start_as_current_span("makeThing request"):
        request = telemetry.current_traceparent()
        async with db.session() as session:
            event = Event(type="ThingMade", source="test", payload={"n": 1})
            await outbox.stage(session, event)
            await session.commit()
    assert request is not None
    return event, request


async def _relay_elsewhere(db: Database, bus: InProcessBus) -> None:
    """Relay from a fresh context, inside an unrelated span, as another process would."""

    async def relay() -> None:
        with telemetry.tracer().start_as_current_span("relay poll"):
            assert await outbox.OutboxRelay(db=db, bus=bus).relay_once() == 1

    await asyncio.create_task(relay(), context=contextvars.Context())
    await bus.drain()


def _trace_and_span(traceparent: str) -> tuple[int, int]:
    _, trace_id, span_id, _ = traceparent.split("-")
    return int(trace_id, 16), int(span_id, 16)


async def test_the_outbox_row_keeps_the_staging_transactions_traceparent(
    spans, db_url, tmp_path
) -> None:
    db = await _database(db_url, tmp_path)
    try:
        event, request = await _stage_in_a_request(db)
        async with db.session() as session:
            stored = await session.scalar(select(outbox_rows.c.traceparent))
    finally:
        await db.dispose()
    assert stored == event.traceparent == request


async def test_a_late_relay_publishes_in_the_staging_trace(
    spans, db_url, tmp_path, consumed
) -> None:
    bus, handled = consumed
    staging = await _database(db_url, tmp_path)
    _, request = await _stage_in_a_request(staging)
    await staging.dispose()
    later = Database(url=db_url, migrations_dir=tmp_path)  # another engine: a restarted process
    try:
        await _relay_elsewhere(later, bus)
    finally:
        await later.dispose()
    (event,) = handled
    assert event.traceparent == request
    (consumer,) = [s for s in spans.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    assert (consumer.context.trace_id, consumer.parent.span_id) == _trace_and_span(request)


async def test_an_outbox_without_the_traceparent_column_still_relays(
    spans, db_url, tmp_path, consumed
) -> None:
    bus, handled = consumed
    db = await _database(db_url, tmp_path, legacy_metadata)
    try:
        await _stage_in_a_request(db)
        await _relay_elsewhere(db, bus)
    finally:
        await db.dispose()
    assert [e.payload for e in handled] == [{"n": 1}]


@pytest.mark.postgres
async def test_a_late_relay_on_postgresql_publishes_in_the_staging_trace(
    spans, pg_url, tmp_path, consumed
) -> None:
    bus, handled = consumed
    staging = await _database(pg_url, tmp_path)
    later = Database(url=pg_url, migrations_dir=tmp_path)
    try:
        _, request = await _stage_in_a_request(staging)
        await _relay_elsewhere(later, bus)
    finally:
        await staging.dispose()
        await later.dispose()
    assert [e.traceparent for e in handled] == [request]
