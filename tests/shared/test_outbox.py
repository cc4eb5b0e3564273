"""The transactional outbox: staged with the change, published once committed, never lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, insert, select, update

from shared import outbox
from shared.bus import Event
from shared.db import Database, utcnow

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"

metadata = MetaData()
things = Table("things", metadata, Column("id", String(64), primary_key=True))
outbox_rows = outbox.outbox_table(metadata)


class RecordingBus:
    """Remembers what was published; raises while ``failures`` is above zero."""

    def __init__(self, *, failures: int = 0, delay: float = 0.0) -> None:
        self.published: list[Event] = []
        self.failures = failures
        self.calls = 0
        self.delay = delay

    async def publish(self, event: Event) -> None:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("Redis is down")
        if self.delay:
            await asyncio.sleep(self.delay)
        self.published.append(event)

    def subscribe(self, **_: object) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass


async def _create(db: Database) -> Database:
    async with db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return db


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A SQLite database with a ``things`` table and the outbox."""
    database = await _create(
        Database(url=f"sqlite+aiosqlite:///{tmp_path / 'o.db'}", migrations_dir=tmp_path)
    )
    yield database
    await database.dispose()


def _event(n: int = 0) -> Event:
    return Event(type="ThingMade", source="test", payload={"n": n})


async def _make_thing(session, event: Event) -> None:
    await session.execute(insert(things).values(id=event.id))
    await outbox.stage(session, event)


async def _rows(db: Database) -> list[dict]:
    async with db.session() as session:
        result = await session.execute(select(outbox_rows).order_by(outbox_rows.c.occurred_at))
        return [dict(row) for row in result.mappings()]


async def test_staging_in_a_rolled_back_transaction_publishes_nothing(db) -> None:
    bus = RecordingBus()
    async with outbox.session(db=db, bus=bus) as session:
        await _make_thing(session, _event())
        await session.rollback()
    assert await outbox.OutboxRelay(db=db, bus=bus).relay_once() == 0
    assert bus.published == [] and await _rows(db) == []


async def test_an_error_before_commit_leaves_neither_state_nor_event(db) -> None:
    bus = RecordingBus()
    with pytest.raises(RuntimeError):
        async with outbox.session(db=db, bus=bus) as session:
            await _make_thing(session, _event())
            raise RuntimeError("the handler failed")
    assert await outbox.OutboxRelay(db=db, bus=bus).relay_once() == 0
    assert bus.published == [] and await _rows(db) == []


async def test_committed_events_are_published_once_in_order(db) -> None:
    bus = RecordingBus()
    events = [_event(n) for n in range(3)]
    async with outbox.session(db=db, bus=bus) as session:
        for event in events:
            await _make_thing(session, event)
        await session.commit()
    assert [e.id for e in bus.published] == [e.id for e in events]
    assert await outbox.OutboxRelay(db=db, bus=bus).relay_once() == 0
    assert len(bus.published) == 3
    assert all(row["published_at"] is not None for row in await _rows(db))
    assert bus.published[0] == events[0]  # the same envelope: id, type, source, time, payload


async def test_a_failed_publish_keeps_the_request_and_leaves_the_event_to_the_relay(db) -> None:
    down = RecordingBus(failures=1)
    event = _event()
    async with outbox.session(db=db, bus=down) as session:
        await _make_thing(session, event)
        await session.commit()
    [row] = await _rows(db)
    assert row["published_at"] is None and row["attempts"] == 1 and "Redis" in row["last_error"]
    up = RecordingBus()
    assert await outbox.OutboxRelay(db=db, bus=up).relay_once() == 1
    assert [e.id for e in up.published] == [event.id]


async def test_the_relay_retries_while_the_bus_raises(db) -> None:
    bus = RecordingBus(failures=1_000)
    async with db.session() as session:  # staged without publishing: as after a crash
        for n in range(5):
            await _make_thing(session, _event(n))
        await session.commit()
    relay = outbox.OutboxRelay(db=db, bus=bus, poll_interval=0.01, max_backoff=0.02)
    await relay.start()
    try:
        await asyncio.sleep(0.2)
        assert bus.published == [] and bus.calls >= 3
        bus.failures = 0  # Redis is back
        for _ in range(200):
            if len(bus.published) == 5:
                break
            await asyncio.sleep(0.01)
    finally:
        await relay.stop()
    assert sorted(e.payload["n"] for e in bus.published) == [0, 1, 2, 3, 4]
    assert await outbox.pending_count(db) == 0


async def test_a_stopped_relay_resumes_where_it_left_off(db) -> None:
    bus = RecordingBus()
    relay = outbox.OutboxRelay(db=db, bus=bus, poll_interval=0.01)
    await relay.start()
    await relay.stop()
    async with db.session() as session:
        await _make_thing(session, _event())
        await session.commit()
    await asyncio.sleep(0.05)
    assert bus.published == []  # nobody relays while it is stopped
    await relay.start()
    try:
        for _ in range(100):
            if bus.published:
                break
            await asyncio.sleep(0.01)
    finally:
        await relay.stop()
    assert len(bus.published) == 1


async def test_published_events_older_than_the_retention_are_purged(db) -> None:
    bus = RecordingBus()
    async with outbox.session(db=db, bus=bus) as session:
        await _make_thing(session, _event(1))
        await session.commit()
    async with db.session() as session:
        await session.execute(update(outbox_rows).values(published_at=utcnow().replace(year=2020)))
        await _make_thing(session, _event(2))  # pending: never purged
        await session.commit()
    relay = outbox.OutboxRelay(db=db, bus=RecordingBus(failures=1_000))
    await relay.purge_published()
    assert [row["payload"]["n"] for row in await _rows(db)] == [2]


# --- two relays on PostgreSQL -----------------------------------------------------------


@pytest.mark.postgres
async def test_two_relays_on_postgresql_publish_each_event_exactly_once(pg_url, tmp_path) -> None:
    # Two Database objects: two engines, as two replicas would have (no shared lock).
    first = await _create(Database(url=pg_url, migrations_dir=tmp_path))
    second = Database(url=pg_url, migrations_dir=tmp_path)
    try:
        async with first.session() as session:
            for n in range(120):
                await _make_thing(session, _event(n))
            await session.commit()
        bus = RecordingBus(delay=0.002)  # slow enough for the relays to overlap
        relays = [outbox.OutboxRelay(db=db, bus=bus, batch_size=10) for db in (first, second)]
        counts = await asyncio.gather(*(relay.relay_once() for relay in relays))
        assert sum(counts) == 120
        assert all(counts), counts  # each took a share: they really ran side by side
        published = Counter(e.payload["n"] for e in bus.published)
        assert published == Counter(range(120))
        assert await outbox.pending_count(first) == 0
    finally:
        await first.dispose()
        await second.dispose()
