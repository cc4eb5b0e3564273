"""The domain event bus: in-process (embedded) or Redis Streams (distributed).

Enters: events published by a subgraph's ``events.py`` after its transaction
commits. Leaves: each event handed to every subscribed consumer group once per
group, retried when a handler fails. Handlers must be idempotent by event id:
Redis Streams redelivers what was not acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from shared.ids import new_id

log = logging.getLogger(__name__)

Handler = Callable[["Event"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Event:
    """A domain event: something that happened, named in the past tense."""

    type: str
    payload: dict[str, Any]
    source: str
    id: str = field(default_factory=lambda: new_id("evt"))
    occurred_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def to_json(self) -> bytes:
        """The wire form of the event."""
        return orjson.dumps(
            {
                "id": self.id,
                "type": self.type,
                "source": self.source,
                "occurredAt": self.occurred_at,
                "payload": self.payload,
            }
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        """Read an event written by :meth:`to_json`."""
        data = orjson.loads(raw)
        return cls(
            id=data["id"],
            type=data["type"],
            source=data["source"],
            occurred_at=data["occurredAt"],
            payload=data["payload"],
        )


@dataclass(slots=True)
class Subscription:
    """A consumer group's interest in some event types."""

    group: str
    types: frozenset[str]
    handler: Handler


class EventBus(Protocol):
    """What subgraphs need from a bus."""

    async def publish(self, event: Event) -> None:
        """Hand ``event`` to the bus; returns once it is durable (or queued in-process)."""

    def subscribe(self, *, group: str, types: Iterable[str], handler: Handler) -> None:
        """Deliver events of ``types`` to ``handler`` as consumer group ``group``."""

    async def start(self) -> None:
        """Begin delivering to subscribers."""

    async def stop(self) -> None:
        """Stop delivering and release connections."""


async def _deliver(sub: Subscription, event: Event, *, attempts: int = 5) -> bool:
    """Run one handler with retries and backoff; True once it succeeded."""
    for attempt in range(1, attempts + 1):
        try:
            await sub.handler(event)
            return True
        except Exception:
            log.exception(
                "handler %s failed on %s %s (try %d)", sub.group, event.type, event.id, attempt
            )
            await asyncio.sleep(min(0.05 * 2**attempt, 2.0))
    return False


class InProcessBus:
    """Delivers events to handlers in this process through an asyncio queue."""

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._queue: asyncio.Queue[Event] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[bool]] = set()

    def subscribe(self, *, group: str, types: Iterable[str], handler: Handler) -> None:
        self._subscriptions.append(Subscription(group, frozenset(types), handler))

    async def publish(self, event: Event) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        await self._queue.put(event)

    async def start(self) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="in-process-bus")

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            event = await self._queue.get()
            for sub in self._subscriptions:
                if event.type in sub.types:
                    task = asyncio.create_task(_deliver(sub, event))
                    self._pending.add(task)
                    task.add_done_callback(self._pending.discard)
            self._queue.task_done()

    async def drain(self) -> None:
        """Wait until every published event has been handled (tests and shutdown)."""
        while True:
            if self._queue is not None:
                await self._queue.join()
            if not self._pending:
                return
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def stop(self) -> None:
        if self._worker is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.drain(), timeout=5)
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None


class RedisStreamsBus:
    """Redis Streams: one stream per event type, one consumer group per subscriber."""

    def __init__(self, url: str, *, namespace: str = "pizza", consumer: str | None = None) -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = f"{namespace}:events:"
        self._consumer = consumer or new_id("consumer")
        self._subscriptions: list[Subscription] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def subscribe(self, *, group: str, types: Iterable[str], handler: Handler) -> None:
        self._subscriptions.append(Subscription(group, frozenset(types), handler))

    async def publish(self, event: Event) -> None:
        await self._redis.xadd(self._prefix + event.type, {"event": event.to_json()})

    async def start(self) -> None:
        from redis.exceptions import ResponseError

        for sub in self._subscriptions:
            for event_type in sub.types:
                try:
                    await self._redis.xgroup_create(
                        self._prefix + event_type, sub.group, id="0", mkstream=True
                    )
                except ResponseError as exc:  # BUSYGROUP: the group exists already
                    if "BUSYGROUP" not in str(exc):
                        raise
            self._tasks.append(asyncio.create_task(self._consume(sub), name=f"bus-{sub.group}"))

    async def _consume(self, sub: Subscription) -> None:
        streams = {self._prefix + t: ">" for t in sub.types}
        pending = {self._prefix + t: "0" for t in sub.types}
        while not self._stopping:
            try:
                # First what this consumer left unacknowledged, then new entries.
                source = pending or streams
                replies = await self._redis.xreadgroup(
                    sub.group, self._consumer, source, count=50, block=None if pending else 1000
                )
                if pending and all(not entries for _, entries in replies or []):
                    pending = {}
                    continue
                for stream, entries in replies or []:
                    for entry_id, fields in entries:
                        event = Event.from_json(fields[b"event"])
                        if await _deliver(sub, event):
                            await self._redis.xack(stream, sub.group, entry_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._stopping:
                    return
                log.exception("bus consumer %s failed; retrying", sub.group)
                await asyncio.sleep(1)

    async def stop(self) -> None:
        # redis-py may turn a cancelled blocking read into a ConnectionError, so the
        # loops also watch a flag rather than rely on cancellation alone.
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=5)
        self._tasks.clear()
        await self._redis.aclose()
