"""The domain event bus: in-process (embedded) or Redis Streams (distributed).

Enters: events from a subgraph's outbox (``shared.outbox``: staged in the
transaction of the state change, published once it committed). Leaves: each event
handed to every subscribed consumer group, retried when a handler fails and
acknowledged only after the handler returned (its transaction committed). Delivery
is at least once: handlers must be idempotent by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from shared import telemetry
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
    traceparent: str | None = field(default_factory=telemetry.current_traceparent)
    """W3C trace context of the span that published it (None when tracing is off); consumers
    continue that trace. Optional on the wire: events without it still load."""

    def to_json(self) -> bytes:
        """The wire form of the event."""
        envelope = {
            "id": self.id,
            "type": self.type,
            "source": self.source,
            "occurredAt": self.occurred_at,
            "payload": self.payload,
        }
        if self.traceparent:
            envelope["traceparent"] = self.traceparent
        return orjson.dumps(envelope)

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
            traceparent=data.get("traceparent"),
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
            with telemetry.consumer_span(
                event.type, group=sub.group, traceparent=event.traceparent
            ):
                await sub.handler(event)
            return True
        except Exception:
            log.exception(
                "handler %s failed on %s %s (try %d)", sub.group, event.type, event.id, attempt
            )
            await asyncio.sleep(min(0.05 * 2**attempt, 2.0))
    return False


class InProcessBus:
    """Delivers events to handlers in this process through asyncio queues.

    Each consumer group gets its own queue and worker, so a group sees events in
    the order they were published (as one Redis consumer does) and a slow group
    never holds up another.
    """

    def __init__(self) -> None:
        self._subscriptions: list[Subscription] = []
        self._queue: asyncio.Queue[Event] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._inboxes: dict[str, asyncio.Queue[Event]] = {}
        self._group_workers: list[asyncio.Task[None]] = []
        self._published = 0

    def subscribe(self, *, group: str, types: Iterable[str], handler: Handler) -> None:
        self._subscriptions.append(Subscription(group, frozenset(types), handler))

    async def publish(self, event: Event) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        self._published += 1
        await self._queue.put(event)

    async def start(self) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
        if self._worker is None:
            self._worker = asyncio.create_task(self._run(), name="in-process-bus")

    def _inbox(self, group: str) -> asyncio.Queue[Event]:
        inbox = self._inboxes.get(group)
        if inbox is None:
            inbox = self._inboxes[group] = asyncio.Queue()
            self._group_workers.append(
                asyncio.create_task(self._serve(group, inbox), name=f"in-process-bus-{group}")
            )
        return inbox

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            event = await self._queue.get()
            for group in dict.fromkeys(
                sub.group for sub in self._subscriptions if event.type in sub.types
            ):
                self._inbox(group).put_nowait(event)
            self._queue.task_done()

    async def _serve(self, group: str, inbox: asyncio.Queue[Event]) -> None:
        while True:
            event = await inbox.get()
            try:
                for sub in self._subscriptions:
                    if sub.group == group and event.type in sub.types:
                        await _deliver(sub, event)
            finally:
                inbox.task_done()

    async def drain(self) -> None:
        """Wait until every published event has been handled (tests and shutdown)."""
        while True:
            published = self._published
            if self._queue is not None:
                await self._queue.join()
            for inbox in list(self._inboxes.values()):
                await inbox.join()
            if published == self._published:  # handlers published nothing more meanwhile
                return

    async def stop(self) -> None:
        if self._worker is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.drain(), timeout=5)
            for task in [self._worker, *self._group_workers]:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._worker = None
            self._group_workers.clear()
            self._inboxes.clear()


class RedisStreamsBus:
    """Redis Streams: one stream per event type, one consumer group per subscriber.

    Each subscription's loop first re-reads what this consumer (a stable name:
    ``consumer``, else ``PIZZA_BUS_CONSUMER``, else the host name) left
    unacknowledged, then reads new entries and, every ``claim_interval`` seconds,
    claims entries other consumers left pending longer than ``claim_idle_ms``
    (``XAUTOCLAIM``): a killed consumer's events are handled by another, and a
    handler that failed is retried. An entry delivered ``max_deliveries`` times that
    still fails goes to the dead-letter stream ``<namespace>:dead-letter:<group>``
    and is acknowledged, so one poison message never blocks a stream. Consumers idle
    for ``forget_after_ms`` with nothing pending are removed from the group. Lost
    connections are retried; groups missing after a restart of a Redis without
    persistence (``NOGROUP``) are created again.
    """

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "pizza",
        consumer: str | None = None,
        claim_idle_ms: int = 60_000,
        claim_interval: float = 5.0,
        max_deliveries: int = 5,
        block_ms: int = 1000,
        forget_after_ms: int = 24 * 3600 * 1000,
    ) -> None:
        self._url = url
        self._redis: Any = None
        self._namespace = namespace
        self._prefix = f"{namespace}:events:"
        self.consumer = consumer or os.environ.get("PIZZA_BUS_CONSUMER") or socket.gethostname()
        self.claim_idle_ms = claim_idle_ms
        self.claim_interval = claim_interval
        self.max_deliveries = max_deliveries
        self.block_ms = block_ms
        self.forget_after_ms = forget_after_ms
        self._subscriptions: list[Subscription] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    def _client(self) -> Any:
        if self._redis is None:
            import redis.asyncio as redis

            self._redis = redis.Redis.from_url(self._url, socket_connect_timeout=5)
        return self._redis

    def dead_letter_stream(self, group: str) -> str:
        """Where ``group``'s poison messages go."""
        return f"{self._namespace}:dead-letter:{group}"

    def subscribe(self, *, group: str, types: Iterable[str], handler: Handler) -> None:
        self._subscriptions.append(Subscription(group, frozenset(types), handler))

    async def publish(self, event: Event) -> None:
        await self._client().xadd(self._prefix + event.type, {"event": event.to_json()})

    async def start(self) -> None:
        """Create the groups (when Redis is up) and start one loop per subscription."""
        self._stopping = False
        for sub in self._subscriptions:
            try:
                await self._ensure_groups(sub)
            except Exception as exc:  # Redis down: the loop creates them once it is back
                log.warning("bus group %s not created yet (%r)", sub.group, exc)
            self._tasks.append(
                asyncio.create_task(self._consume(sub), name=f"bus-{sub.group}-{self.consumer}")
            )

    async def _ensure_groups(self, sub: Subscription) -> None:
        from redis.exceptions import ResponseError

        for event_type in sorted(sub.types):
            try:
                # From the stream's start: events published before the group existed
                # (e.g. by the relay right after a Redis restart) are not skipped.
                await self._client().xgroup_create(
                    self._prefix + event_type, sub.group, id="0", mkstream=True
                )
            except ResponseError as exc:  # BUSYGROUP: the group exists already
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _consume(self, sub: Subscription) -> None:
        from redis.exceptions import ResponseError

        streams = [self._prefix + t for t in sorted(sub.types)]
        # Own pending entries first (what this consumer read before a crash), then new ones.
        cursors: dict[str, str] | None = dict.fromkeys(streams, "0")
        loop = asyncio.get_running_loop()
        next_claim = 0.0
        while not self._stopping:
            try:
                client = self._client()
                if cursors is not None:
                    replies = await client.xreadgroup(sub.group, self.consumer, cursors, count=50)
                    if all(not entries for _, entries in replies or []):
                        cursors = None
                        continue
                    for stream, entries in replies:
                        if entries:
                            cursors[_text(stream)] = _text(entries[-1][0])
                            await self._handle_entries(sub, _text(stream), entries)
                    continue
                if loop.time() >= next_claim:
                    await self._claim_stale(sub, streams)
                    next_claim = loop.time() + self.claim_interval
                replies = await client.xreadgroup(
                    sub.group,
                    self.consumer,
                    dict.fromkeys(streams, ">"),
                    count=50,
                    block=self.block_ms,
                )
                for stream, entries in replies or []:
                    await self._handle_entries(sub, _text(stream), entries)
            except asyncio.CancelledError:
                raise
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    log.exception("bus consumer %s failed; retrying", sub.group)
                    await asyncio.sleep(1)
                    continue
                log.warning("bus group %s is gone (Redis restarted?); creating it", sub.group)
                with contextlib.suppress(Exception):
                    await self._ensure_groups(sub)
                cursors = dict.fromkeys(streams, "0")
            except Exception as exc:
                if self._stopping:
                    return
                log.warning("bus consumer %s lost Redis (%r); retrying", sub.group, exc)
                await asyncio.sleep(1)
                # Entries read but not acknowledged during the outage are ours to redo.
                cursors = dict.fromkeys(streams, "0")

    async def _claim_stale(self, sub: Subscription, streams: list[str]) -> None:
        """Take over entries pending too long (their consumer died, or their handler failed)."""
        client = self._client()
        for stream in streams:
            start = "0-0"
            while True:
                reply = await client.xautoclaim(
                    stream, sub.group, self.consumer, self.claim_idle_ms, start_id=start, count=50
                )
                start, entries = _text(reply[0]), reply[1]
                await self._handle_entries(sub, stream, entries)
                if start == "0-0":
                    break
            await self._forget_idle_consumers(sub, stream)

    async def _forget_idle_consumers(self, sub: Subscription, stream: str) -> None:
        """Drop consumers gone for ``forget_after_ms`` with nothing pending (old pod names)."""
        client = self._client()
        for consumer in await client.xinfo_consumers(stream, sub.group):
            name = _text(consumer["name"])
            if (
                name != self.consumer
                and not consumer["pending"]
                and consumer["idle"] > self.forget_after_ms
            ):
                await client.xgroup_delconsumer(stream, sub.group, name)

    async def _handle_entries(self, sub: Subscription, stream: str, entries: Any) -> None:
        client = self._client()
        for entry_id, fields in entries:
            if entry_id is None:
                continue  # trimmed away while pending (Redis < 7 reports it as nil)
            if not fields:
                await client.xack(stream, sub.group, entry_id)
                continue
            try:
                event = Event.from_json(fields[b"event"])
            except Exception:
                await self._dead_letter(sub, stream, entry_id, fields, "unreadable event")
                continue
            if await _deliver(sub, event, attempts=3):
                await client.xack(stream, sub.group, entry_id)
                continue
            pending = await client.xpending_range(
                stream, sub.group, min=entry_id, max=entry_id, count=1
            )
            deliveries = pending[0]["times_delivered"] if pending else 0
            if deliveries >= self.max_deliveries:
                await self._dead_letter(
                    sub, stream, entry_id, fields, f"failed {deliveries} deliveries"
                )
            # Otherwise it stays pending: XAUTOCLAIM retries it after claim_idle_ms.

    async def _dead_letter(
        self, sub: Subscription, stream: str, entry_id: Any, fields: Any, reason: str
    ) -> None:
        log.error(
            "bus group %s gives up on %s %s (%s); moved to %s",
            sub.group,
            stream,
            _text(entry_id),
            reason,
            self.dead_letter_stream(sub.group),
        )
        async with self._client().pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.dead_letter_stream(sub.group),
                {
                    "event": fields.get(b"event", b"") if fields else b"",
                    "stream": stream,
                    "entry": _text(entry_id),
                    "reason": reason,
                },
            )
            pipe.xack(stream, sub.group, entry_id)
            await pipe.execute()

    async def stop(self) -> None:
        """Stop consuming (unacknowledged entries stay pending) and close the connections.

        ``start()`` again resumes with the same consumer name, as a restarted process would.
        """
        # redis-py may turn a cancelled blocking read into a ConnectionError, so the
        # loops also watch a flag rather than rely on cancellation alone.
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, timeout=5)
        self._tasks.clear()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
