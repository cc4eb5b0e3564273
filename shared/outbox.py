"""The transactional outbox: an event is written with the state change that caused it.

Enters: events a subgraph stages with :func:`stage` inside its own transaction.
Leaves: each committed event handed to the bus at least once, by the committing
request right after its commit (:func:`session`) or, when that failed (Redis down,
process killed), by the :class:`OutboxRelay` polling in the background. An event
staged in a transaction that rolled back never existed. Publishing twice (a crash
between publishing and marking the row) is allowed: consumers are idempotent by
event id.

Each row keeps the W3C ``traceparent`` of the transaction that staged it, and the
event is published with that one, whoever publishes it and however late: the
consumer's span joins the trace of the request that caused the event, not the
relay's (which has none). A database whose outbox predates the ``traceparent``
column (its migration not applied yet) still works, without that link.

Publishers never publish the same row at the same time: on PostgreSQL the rows are
taken with ``FOR UPDATE SKIP LOCKED`` (replicas, and the request and the relay, skip
each other's rows); on SQLite, which has no row locks and serves one process, an
asyncio lock per database serialises them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    column,
    delete,
    func,
    insert,
    inspect,
    select,
    table,
    update,
)
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ColumnClause

from shared import telemetry
from shared.bus import Event, EventBus
from shared.db import Database, UTCDateTime, utcnow

log = logging.getLogger(__name__)

TABLE = "outbox"
_STAGED = "outbox.staged"

_outbox = table(
    TABLE,
    column("id", String),
    column("type", String),
    column("source", String),
    column("payload", JSON),
    column("occurred_at", UTCDateTime()),
    column("published_at", UTCDateTime()),
    column("attempts", Integer),
    column("last_error", Text),
    column("traceparent", String),
)
"""The columns :func:`stage` and the relay use, whichever metadata declared the table."""


def outbox_table(metadata: MetaData) -> Table:
    """Declare the ``outbox`` table in a subgraph's own metadata (its ``models.py``)."""
    return Table(
        TABLE,
        metadata,
        Column("id", String(64), primary_key=True, comment="The event id"),
        Column("type", String(60), nullable=False),
        Column("source", String(40), nullable=False),
        Column("payload", JSON, nullable=False),
        Column("occurred_at", UTCDateTime(), nullable=False),
        Column("published_at", UTCDateTime(), nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
        Column(
            "traceparent",
            String(255),
            nullable=True,
            comment="W3C trace context of the transaction that staged the event",
        ),
        Index("ix_outbox_pending", "published_at", "occurred_at"),
    )


def _occurred_at(event: Event) -> datetime:
    parsed = datetime.fromisoformat(event.occurred_at)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=utcnow().tzinfo)


_trace_columns: weakref.WeakKeyDictionary[object, bool] = weakref.WeakKeyDictionary()


def _has_traceparent_column(connection: Connection) -> bool:
    return any(c["name"] == "traceparent" for c in inspect(connection).get_columns(TABLE))


async def _stores_traceparent(session: AsyncSession) -> bool:
    """Whether this database's outbox has the ``traceparent`` column (looked up once per engine)."""
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    known = _trace_columns.get(engine)
    if known is None:
        known = _trace_columns[engine] = await session.run_sync(
            lambda sync: _has_traceparent_column(sync.connection())
        )
    return known


async def stage(session: AsyncSession, event: Event) -> None:
    """Write ``event`` to the outbox in the caller's transaction (published once committed).

    The row keeps the event's ``traceparent`` (else the current span's), so whoever
    publishes it later publishes it in this trace.
    """
    values = {
        "id": event.id,
        "type": event.type,
        "source": event.source,
        "payload": event.payload,
        "occurred_at": _occurred_at(event),
        "published_at": None,
        "attempts": 0,
        "last_error": None,
    }
    if await _stores_traceparent(session):
        values["traceparent"] = event.traceparent or telemetry.current_traceparent()
    await session.execute(insert(_outbox).values(**values))
    session.info.setdefault(_STAGED, []).append(event.id)


def _published(row: RowMapping) -> Event:
    """The event of an outbox row, in the trace of the transaction that staged it."""
    return Event(
        id=row["id"],
        type=row["type"],
        source=row["source"],
        payload=row["payload"],
        occurred_at=row["occurred_at"].isoformat(),
        # Rows staged without trace context (tracing off, or before the column existed)
        # continue whatever the publisher is in, as events built here always did.
        traceparent=row.get("traceparent") or telemetry.current_traceparent(),
    )


_locks: weakref.WeakKeyDictionary[object, asyncio.Lock] = weakref.WeakKeyDictionary()


def _serialised(db: Database) -> contextlib.AbstractAsyncContextManager[object]:
    """SQLite: one publisher at a time in this process. PostgreSQL: row locks suffice."""
    if db.engine.dialect.name != "sqlite":
        return contextlib.nullcontext()
    key = db.engine.sync_engine
    lock = _locks.get(key)
    if lock is None:
        lock = _locks[key] = asyncio.Lock()
    return lock


async def publish_pending(
    *, db: Database, bus: EventBus, ids: Iterable[str] | None = None, limit: int = 100
) -> int:
    """Publish up to ``limit`` unpublished events (only ``ids`` when given), oldest first.

    Returns how many were published. When the bus fails, what was published so far
    is marked, the failing row counts an attempt and the error is raised.
    """
    wanted = list(ids) if ids is not None else None
    if wanted == []:
        return 0
    async with _serialised(db), db.session() as current:
        columns = [c for c in _outbox.c if c.name != "traceparent"]
        if await _stores_traceparent(current):
            columns.append(_outbox.c.traceparent)
        rows = await _take(current, columns=columns, ids=wanted, limit=limit)
        done: list[str] = []
        try:
            for row in rows:
                await bus.publish(_published(row))
                done.append(row["id"])
        except Exception as exc:
            failed = rows[len(done)]["id"]
            await current.execute(
                update(_outbox)
                .where(_outbox.c.id == failed)
                .values(attempts=_outbox.c.attempts + 1, last_error=repr(exc)[:500])
            )
            raise
        finally:
            if done:
                await current.execute(
                    update(_outbox)
                    .where(_outbox.c.id.in_(done))
                    .values(published_at=utcnow(), attempts=_outbox.c.attempts + 1)
                )
            await current.commit()
    return len(done)


async def _take(
    current: AsyncSession, *, columns: list[ColumnClause[Any]], ids: list[str] | None, limit: int
) -> Sequence[RowMapping]:
    """Lock up to ``limit`` unpublished rows (only ``ids`` when given), oldest first."""
    query = (
        select(*columns)
        .where(_outbox.c.published_at.is_(None))
        .order_by(_outbox.c.occurred_at, _outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if ids is not None:
        query = query.where(_outbox.c.id.in_(ids))
    return (await current.execute(query)).mappings().all()


@asynccontextmanager
async def session(*, db: Database, bus: EventBus) -> AsyncIterator[AsyncSession]:
    """A session whose staged events are published as soon as the block has committed them.

    Publishing here is an optimisation (no wait for the relay); when it fails the
    rows stay unpublished and the relay delivers them later.
    """
    async with db.session() as current:
        yield current
        staged = current.info.pop(_STAGED, [])
    if staged:
        try:
            await publish_pending(db=db, bus=bus, ids=staged, limit=len(staged))
        except Exception as exc:
            log.warning(
                "publishing %d staged events failed (%r); the relay retries", len(staged), exc
            )


async def has_outbox(db: Database) -> bool:
    """Whether this database has an outbox table (subgraphs that publish nothing have none)."""
    async with db.engine.connect() as connection:
        return await connection.run_sync(lambda sync: inspect(sync).has_table(TABLE))


async def pending_count(db: Database) -> int:
    """How many events wait to be published."""
    async with db.session() as current:
        rows = await current.execute(select(_outbox.c.id).where(_outbox.c.published_at.is_(None)))
        return len(rows.all())


async def backlog(db: Database) -> tuple[int, float]:
    """Events waiting to be published and the age in seconds of the oldest (0 when none)."""
    async with db.session() as current:
        count, oldest = (
            await current.execute(
                select(func.count(), func.min(_outbox.c.occurred_at)).where(
                    _outbox.c.published_at.is_(None)
                )
            )
        ).one()
    if not count or oldest is None:
        return 0, 0.0
    if isinstance(oldest, str):  # SQLite's min() bypasses the column type
        oldest = datetime.fromisoformat(oldest)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
    return int(count), max((utcnow() - oldest).total_seconds(), 0.0)


BacklogObserver = Callable[[int, float], None]
"""Told ``(pending events, age of the oldest in seconds)`` after every relay pass."""


class OutboxRelay:
    """Publishes what the committing requests could not: polls, retries with backoff.

    ``stop()`` and ``start()`` again resume where it left off: the state is the table.
    """

    def __init__(
        self,
        *,
        db: Database,
        bus: EventBus,
        poll_interval: float = 1.0,
        batch_size: int = 100,
        max_backoff: float = 10.0,
        retention: timedelta = timedelta(days=1),
        stop_timeout: float = 5.0,
        observe_backlog: BacklogObserver | None = None,
    ) -> None:
        self.db = db
        self.observe_backlog = observe_backlog
        self.bus = bus
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.max_backoff = max_backoff
        self.retention = retention
        self.stop_timeout = stop_timeout
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._purged_at: datetime | None = None

    @property
    def running(self) -> bool:
        """Whether the relay task is alive."""
        return self._task is not None and not self._task.done()

    def nudge(self) -> None:
        """Look at the outbox now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        """Start relaying in the background."""
        if not self.running:
            self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        """Stop relaying after the batch in hand; rows not published stay for the next start."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=self.stop_timeout)
        except TimeoutError:  # stuck on a bus that does not answer: give up the batch
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            self._task = None
            self._stopping = False

    async def relay_once(self) -> int:
        """Publish every pending event now; returns how many."""
        total = 0
        while True:
            published = await publish_pending(db=self.db, bus=self.bus, limit=self.batch_size)
            total += published
            if published < self.batch_size or self._stopping:
                return total

    async def _run(self) -> None:
        backoff = self.poll_interval
        while not self._stopping:
            self._wake.clear()
            try:
                await self.relay_once()
                await self.purge_published()
                backoff = self.poll_interval
                wait = self.poll_interval
            except Exception as exc:  # bus or database down: nothing is lost, try again
                log.warning("outbox relay failed (%r); retrying in %.1fs", exc, backoff)
                wait, backoff = backoff, min(backoff * 2, self.max_backoff)
            await self.report_backlog()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def report_backlog(self) -> None:
        """Feed the outbox lag gauges; a database that is down leaves them as they were."""
        if self.observe_backlog is None:
            return
        try:
            self.observe_backlog(*await backlog(self.db))
        except Exception as exc:
            log.debug("outbox backlog unknown (%r)", exc)

    async def purge_published(self) -> None:
        """Forget published events older than the retention, at most every few minutes."""
        now = utcnow()
        if self._purged_at is not None and now - self._purged_at < timedelta(minutes=5):
            return
        self._purged_at = now
        async with self.db.session() as current:
            await current.execute(
                delete(_outbox).where(
                    _outbox.c.published_at.is_not(None),
                    _outbox.c.published_at < now - self.retention,
                )
            )
            await current.commit()
