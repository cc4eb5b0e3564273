"""Live updates for GraphQL subscriptions: best-effort fan-out, not the domain event bus.

Enters: small JSON payloads a subgraph publishes after a commit (``publish(channel, payload)``).
Leaves: each payload handed to every subscriber of that channel in every process — through an
in-process hub (embedded mode: the subgraphs of one process share it) or Redis pub/sub
(distributed mode: one connection per process multiplexes every channel, so all replicas see
every update). Nothing is stored: a subscriber sees what is published while it listens, which
is why subscription resolvers read the current state once after subscribing.

Each subscriber has a bounded buffer: when a slow consumer falls behind the oldest payload is
dropped (``buffer=1``: latest wins, for positions), so one slow client never holds up others.
Channels: :func:`order_channel`, :func:`store_orders_channel`, :func:`driver_position_channel`,
:func:`notifications_channel`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Any, Protocol

import orjson
import redis.asyncio as redis

from shared.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_BUFFER = 64


def order_channel(order_id: str) -> str:
    """Every change of one order (stage, timestamps, price)."""
    return f"order:{order_id}"


def store_orders_channel(store_id: str) -> str:
    """Every order of a store that was placed or changed (store screens)."""
    return f"store-orders:{store_id}"


def driver_position_channel(order_id: str) -> str:
    """Where the driver carrying an order is, with the order's ETA."""
    return f"driver-position:{order_id}"


def notifications_channel(user_id: str) -> str:
    """A user's new in-app notifications."""
    return f"notifications:{user_id}"


def order_changed(*, order_id: str, store_id: str, status: str) -> list[tuple[str, dict[str, Any]]]:
    """The live updates of one order's change: its own channel and its store's."""
    payload = {"orderId": order_id, "storeId": store_id, "status": status}
    return [(order_channel(order_id), payload), (store_orders_channel(store_id), payload)]


class LiveSubscription:
    """One subscriber's bounded buffer; iterate it for payloads (``async for``)."""

    def __init__(self, channel: str, *, buffer: int) -> None:
        self.channel = channel
        self.dropped = 0
        self._items: deque[dict[str, Any]] = deque(maxlen=max(1, buffer))
        self._ready = asyncio.Event()

    def offer(self, payload: dict[str, Any]) -> None:
        """Queue ``payload``, dropping the oldest when the buffer is full (never blocks)."""
        if len(self._items) == self._items.maxlen:
            self.dropped += 1
        self._items.append(payload)
        self._ready.set()

    def __aiter__(self) -> LiveSubscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while not self._items:
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()


class LiveHub(Protocol):
    """Publish and subscribe by channel name."""

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        """Hand ``payload`` to the channel's current subscribers (best effort)."""

    def subscribe(
        self, channel: str, *, buffer: int = DEFAULT_BUFFER
    ) -> contextlib.AbstractAsyncContextManager[LiveSubscription]:
        """Listen to ``channel`` while the context is open (registered once entered)."""

    async def close(self) -> None:
        """Release connections."""


class InProcessLiveHub:
    """Delivers to subscribers in this process (embedded mode, tests)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[LiveSubscription]] = {}

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        for subscriber in list(self._subscribers.get(channel, ())):
            subscriber.offer(payload)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, channel: str, *, buffer: int = DEFAULT_BUFFER
    ) -> AsyncIterator[LiveSubscription]:
        subscription = LiveSubscription(channel, buffer=buffer)
        self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(channel)
            if subscribers is not None:
                subscribers.discard(subscription)
                if not subscribers:
                    del self._subscribers[channel]

    def subscriber_count(self, channel: str | None = None) -> int:
        """How many subscribers listen (to ``channel``, or in all)."""
        if channel is not None:
            return len(self._subscribers.get(channel, ()))
        return sum(len(s) for s in self._subscribers.values())

    async def close(self) -> None:
        self._subscribers.clear()


class RedisLiveHub:
    """Redis pub/sub: one connection per process for every channel, resubscribed on failure.

    Channels are prefixed with ``{namespace}:live:``. A reader task dispatches messages to the
    local subscribers; when Redis goes away it reconnects with backoff and subscribes again to
    every channel that still has listeners (updates published meanwhile are lost: live data is
    best effort, and subscribers read the current state when they start).
    """

    def __init__(self, url: str, *, namespace: str) -> None:
        self.url = url
        self.prefix = f"{namespace}:live:"
        # Named, so operators (and tests) can tell the live connections apart.
        self._client = redis.Redis.from_url(url, client_name=f"{namespace}-live")
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._subscribers: dict[str, set[LiveSubscription]] = {}
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()

    async def publish(self, channel: str, payload: dict[str, Any]) -> None:
        try:
            await self._client.publish(self.prefix + channel, orjson.dumps(payload))
        except (redis.RedisError, OSError) as error:
            log.warning("live update on %s not published: %s", channel, type(error).__name__)

    @contextlib.asynccontextmanager
    async def subscribe(
        self, channel: str, *, buffer: int = DEFAULT_BUFFER
    ) -> AsyncIterator[LiveSubscription]:
        subscription = LiveSubscription(channel, buffer=buffer)
        name = self.prefix + channel
        async with self._lock:
            first = name not in self._subscribers
            self._subscribers.setdefault(name, set()).add(subscription)
            self._ensure_reader()
            waiter: asyncio.Future[None] | None = None
            if first:
                waiter = self._confirmed[name] = asyncio.get_running_loop().create_future()
                with contextlib.suppress(redis.RedisError, OSError, RuntimeError):
                    await self._connected().subscribe(name)
                self._wake.set()
        try:
            if waiter is not None:
                # Registered at Redis before the caller reads the current state: no gap.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(waiter), timeout=5)
            yield subscription
        finally:
            async with self._lock:
                subscribers = self._subscribers.get(name)
                if subscribers is not None:
                    subscribers.discard(subscription)
                    if not subscribers:
                        del self._subscribers[name]
                        self._confirmed.pop(name, None)
                        with contextlib.suppress(redis.RedisError, OSError, RuntimeError):
                            if self._pubsub is not None:
                                await self._pubsub.unsubscribe(name)

    def _connected(self) -> Any:
        if self._pubsub is None:
            self._pubsub = self._client.pubsub()
        return self._pubsub

    def _ensure_reader(self) -> None:
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read(), name="live-hub-reader")

    async def _read(self) -> None:
        backoff = 0.1
        while True:
            try:
                pubsub = self._connected()
                if not pubsub.subscribed:
                    if self._subscribers and not self._lock.locked():
                        raise ConnectionError("listeners but no Redis subscription")
                    self._wake.clear()
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                    continue
                message = await pubsub.get_message(ignore_subscribe_messages=False, timeout=1.0)
                backoff = 0.1
                if message is not None:
                    self._dispatch(message)
            except asyncio.CancelledError:
                raise
            except TimeoutError:
                continue
            except Exception as error:
                log.warning("live hub lost Redis (%s); resubscribing", type(error).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                await self._resubscribe()

    async def _resubscribe(self) -> None:
        async with self._lock:
            old, self._pubsub = self._pubsub, None
            if old is not None:
                with contextlib.suppress(Exception):
                    await old.aclose()
            names = list(self._subscribers)
            if names:
                with contextlib.suppress(redis.RedisError, OSError):
                    await self._connected().subscribe(*names)

    def _dispatch(self, message: dict[str, Any]) -> None:
        raw = message.get("channel")
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        kind = message.get("type")
        if kind == "subscribe":
            waiter = self._confirmed.get(name)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        if kind != "message":
            return
        try:
            payload = orjson.loads(message["data"])
        except orjson.JSONDecodeError:
            return
        for subscription in list(self._subscribers.get(name, ())):
            subscription.offer(payload)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None
        with contextlib.suppress(Exception):
            await self._client.aclose()


_in_process_hub = InProcessLiveHub()
_redis_hubs: dict[tuple[str, str, int], RedisLiveHub] = {}


def in_process_hub() -> InProcessLiveHub:
    """The hub the subgraphs of this process share in embedded mode."""
    return _in_process_hub


def live_hub(settings: Settings) -> LiveHub:
    """The process's hub: Redis pub/sub when ``PIZZA_REDIS_URL`` is set, else in-process.

    One Redis hub per (URL, namespace, event loop): a connection belongs to its loop.
    """
    if not settings.redis_url:
        return _in_process_hub
    key = (settings.redis_url, settings.bus_namespace, id(asyncio.get_running_loop()))
    hub = _redis_hubs.get(key)
    if hub is None:
        hub = _redis_hubs[key] = RedisLiveHub(settings.redis_url, namespace=settings.bus_namespace)
    return hub


async def publish_live(settings: Settings, updates: list[tuple[str, dict[str, Any]]]) -> None:
    """Publish ``(channel, payload)`` pairs after a commit; never raises (live is best effort)."""
    hub = live_hub(settings)
    for channel, payload in updates:
        try:
            await hub.publish(channel, payload)
        except Exception:
            log.exception("live update on %s failed", channel)
