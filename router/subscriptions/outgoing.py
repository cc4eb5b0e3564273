"""What a WebSocket connection has yet to send, and the writer that sends it.

In: protocol messages (``connection_ack``, ``pong``, ``complete``...) and subscription events,
as JSON text, from any task (a shared subscription pushes one event to thousands of
connections in one go).
Out: text frames on the connection, in order: protocol messages first, then each operation's
queued events (at most ``buffer_size`` per operation, the oldest dropped: every event is the
latest state), each operation's ``complete``/``error`` after its events.

``SocketWriter`` sends at once, in the pushing task, while the socket takes the frames: the
ASGI ``send`` of a WebSocket completes without suspending until the transport pushes back, so
it is driven by hand and no task, future or wake-up is spent per message (at 10,000
subscribers that bookkeeping, and the garbage collections its short-lived objects caused,
cost more than the writes). When a send does suspend (a slow client), the rest of it and of
the queue continue in a task of that connection's own; meanwhile new events queue, and only
that client's stale events are dropped.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, MutableMapping
from typing import Any

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class Outgoing:
    """The queue of one connection (see the module docstring for the order)."""

    def __init__(self, buffer_size: int) -> None:
        self.buffer_size = max(1, buffer_size)
        self._control: deque[str] = deque()
        self._events: dict[str, deque[str]] = {}
        self._last: dict[str, str] = {}
        self.on_ready: Callable[[], None] | None = None
        """Called after each message queued (the writer's ``flush``)."""
        self.dropped = 0

    @property
    def pending(self) -> bool:
        """Whether anything waits to be sent."""
        return bool(self._control or self._events)

    def control(self, text: str) -> None:
        """A protocol message: sent in order, never dropped."""
        self._control.append(text)
        if self.on_ready is not None:
            self.on_ready()

    def event(self, operation_id: str, text: str) -> None:
        """An operation's ``next``; the oldest queued one goes when the queue is full."""
        queue = self._events.get(operation_id)
        if queue is None:
            queue = self._events[operation_id] = deque(maxlen=self.buffer_size)
        elif len(queue) == self.buffer_size:
            self.dropped += 1
        queue.append(text)
        if self.on_ready is not None:
            self.on_ready()

    def last(self, operation_id: str, text: str) -> None:
        """The operation's ``complete`` or ``error``: sent once its queued events are."""
        if operation_id in self._events:
            self._last[operation_id] = text
        else:
            self.control(text)

    def discard(self, operation_id: str) -> None:
        """Forget an operation's unsent events (the client completed it)."""
        self._events.pop(operation_id, None)
        self._last.pop(operation_id, None)

    def next(self) -> str | None:
        """The next message to send, or None."""
        if self._control:
            return self._control.popleft()
        for operation_id, queue in self._events.items():
            text = queue.popleft()
            if not queue:
                del self._events[operation_id]
                last = self._last.pop(operation_id, None)
                if last is not None:
                    self._control.append(last)
            return text
        return None


class _Resumed:
    """Awaitable continuing, inside a task, a coroutine that suspended while driven by hand."""

    __slots__ = ("coro", "yielded")

    def __init__(self, coro: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self.coro = coro
        self.yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, yielded = self.coro, self.yielded
        while True:
            try:
                sent = yield yielded  # the future it waits for, to the task
            except BaseException as error:  # cancelled: into the coroutine
                try:
                    yielded = coro.throw(error)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    yielded = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


class SocketWriter:
    """Sends ``outgoing`` through an ASGI WebSocket ``send``, at once while it can."""

    def __init__(self, send: Send, outgoing: Outgoing) -> None:
        self.send = send
        self.outgoing = outgoing
        self.closed = False
        self._task: asyncio.Task[None] | None = None
        outgoing.on_ready = self.flush
        self.flush()

    @property
    def busy(self) -> bool:
        """A send is waiting for the client (its task is running)."""
        return self._task is not None

    def flush(self) -> None:
        """Send what is queued; returns at once (a suspended send continues in a task)."""
        if self._task is not None or self.closed:
            return
        outgoing = self.outgoing
        while (text := outgoing.next()) is not None:
            sending = self.send({"type": "websocket.send", "text": text})
            try:
                yielded = sending.send(None)  # type: ignore[attr-defined]
            except StopIteration:
                continue
            except Exception:  # the client went away; the receive loop sees it too
                self.closed = True
                return
            self._task = asyncio.ensure_future(self._finish(sending, yielded))
            return

    async def _finish(self, sending: Coroutine[Any, Any, Any], yielded: Any) -> None:
        try:
            await _Resumed(sending, yielded)
            while (text := self.outgoing.next()) is not None:
                await self.send({"type": "websocket.send", "text": text})
        except Exception:
            self.closed = True
        finally:
            self._task = None

    async def drained(self) -> None:
        """Until nothing is queued or in flight (or the writer closed)."""
        while not self.closed and (self._task is not None or self.outgoing.pending):
            if self._task is not None:
                await asyncio.wait({self._task})
            else:
                self.flush()
                await asyncio.sleep(0)

    def close(self) -> None:
        """Send nothing more."""
        self.closed = True
        self.outgoing.on_ready = None
        if self._task is not None:
            self._task.cancel()
