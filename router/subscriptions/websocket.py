"""Clients over ``graphql-transport-ws`` (the ``graphql-ws`` library's protocol) at ``/graphql``.

In: a WebSocket offering the ``graphql-transport-ws`` subprotocol; ``connection_init`` (its
payload may carry ``{"Authorization": "Bearer ..."}``, else the upgrade request's header
counts), then ``subscribe``/``complete``/``ping``/``pong`` messages.
Out: ``connection_ack``, and per operation ``next`` payloads then ``complete`` (or ``error``
when it is refused, or when the token expired), ``ping`` every ``keepalive`` seconds.
Queries and mutations sent with ``subscribe`` get one ``next`` and ``complete``.

Protocol violations close the socket with the protocol's codes: 4400 malformed message,
4401 subscribe before the connection was acknowledged, 4403 ``connection_init`` refused (bad
token), 4406 subprotocol not offered, 4408 no ``connection_init`` in time, 4409 duplicate
operation id, 4429 a second ``connection_init`` or more than ``max_operations`` operations
at once. A failing operation never takes the connection down.

Before the upgrade the edge refuses origins CORS does not allow (403) and over-limit clients
(429 with ``Retry-After``); each operation started counts against the rate limits too (an
``error`` for that operation, the connection stays). Events reach the socket through one
writer per connection (``Outgoing``): protocol messages first, then each operation's latest
``queue_capacity`` events, so a slow client only ever loses its own stale events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import orjson
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from router import errors
from router.subscriptions.hub import SubscriptionHub
from router.subscriptions.options import SubscriptionOptions
from router.subscriptions.outgoing import Outgoing, SocketWriter
from router.subscriptions.stream import SubscriptionStream, expired_error, open_stream

if TYPE_CHECKING:
    from router.edge import Edge
    from router.gateway import Gateway

log = logging.getLogger("router.subscriptions")

SUBPROTOCOL = "graphql-transport-ws"


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class _Operation:
    """A running subscription of a connection: events are pushed to it by the shared
    subscription and queued on the connection (no task per operation)."""

    def __init__(
        self, connection: TransportWsConnection, operation_id: str, stream: SubscriptionStream
    ) -> None:
        self.connection = connection
        self.operation_id = operation_id
        self.stream = stream
        self._prefix = '{"id":' + orjson.dumps(operation_id).decode() + ',"type":"next","payload":'
        self._expiry: asyncio.TimerHandle | None = None
        self.done = False

    def push(self, payload: bytes) -> None:
        if not self.done:
            self.connection.outgoing.event(self.operation_id, self._prefix + payload.decode() + "}")

    def end(self) -> None:
        self._finish({"id": self.operation_id, "type": "complete"})

    def arm_expiry(self) -> None:
        """End the operation with an error when the caller's token expires."""
        expires_at = self.stream.expires_at
        if expires_at is not None and not self.done:
            loop = asyncio.get_running_loop()
            delay = max(0.0, expires_at - time.time())
            self._expiry = loop.call_at(loop.time() + delay, self._expired)

    def _expired(self) -> None:
        self._finish({"id": self.operation_id, "type": "error", "payload": [expired_error()]})

    def _finish(self, message: dict[str, Any]) -> None:
        if self.done:
            return
        self.stop()
        self.connection.outgoing.last(self.operation_id, orjson.dumps(message).decode())
        self.connection.forget(self.operation_id, self)

    def stop(self) -> None:
        """Leave the shared subscription; nothing more is queued for this operation."""
        if self.done:
            return
        self.done = True
        if self._expiry is not None:
            self._expiry.cancel()
        self.stream.close()


class TransportWsConnection:
    """One client connection and its running operations."""

    def __init__(
        self,
        websocket: WebSocket,
        gateway: Gateway,
        *,
        options: SubscriptionOptions,
        hub: SubscriptionHub | None = None,
        edge: Edge | None = None,
    ) -> None:
        self.websocket = websocket
        self.gateway = gateway
        self.edge = edge
        self.options = options
        self.hub = hub or SubscriptionHub(gateway, options)
        self.max_operations = options.max_operations_per_connection
        self.keepalive = options.ping_interval_seconds
        self.init_timeout = options.init_timeout_seconds
        self.acknowledged = False
        self.init_received = False
        self.claims: dict[str, Any] | None = None
        self.headers: dict[str, str] = {}
        self.operations: dict[str, asyncio.Task[None] | _Operation] = {}
        self.outgoing = Outgoing(options.buffer_size)
        self.writer: SocketWriter | None = None

    def send_now(self, message: dict[str, Any]) -> None:
        """Queue a protocol message (sent in order, never dropped)."""
        self.outgoing.control(orjson.dumps(message).decode())

    async def send(self, message: dict[str, Any]) -> None:
        """Queue a protocol message; returns once it is queued, not sent."""
        self.send_now(message)

    async def serve(self) -> None:
        if self.edge is not None:
            try:
                await self.edge.admit_websocket(self.websocket)
            except errors.RequestError as refused:
                await self._deny(refused)
                return
        offered = self.websocket.scope.get("subprotocols") or []
        if SUBPROTOCOL not in offered:
            await self.websocket.accept()
            await self.websocket.close(4406, "Subprotocol not acceptable")
            return
        await self.websocket.accept(subprotocol=SUBPROTOCOL)
        # Starlette's send wrapper only re-checks states the writer knows; thousands of
        # clients per event add up, so the writer uses the ASGI send itself (text frames).
        self.writer = SocketWriter(self.websocket._send, self.outgoing)
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            await self._receive_loop()
        except _Close as close:
            await self._flush()
            with contextlib.suppress(Exception):
                await self.websocket.close(close.code, close.reason)
        except WebSocketDisconnect:
            pass
        finally:
            heartbeat.cancel()
            self.writer.close()
            running = list(self.operations.values())
            self.operations.clear()
            for operation in running:
                if isinstance(operation, _Operation):
                    operation.stop()
                else:
                    operation.cancel()
            for operation in running:
                if not isinstance(operation, _Operation):
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await operation

    async def _deny(self, refused: errors.RequestError) -> None:
        """Refuse the upgrade with the error's HTTP status (403 where the server cannot)."""
        if "websocket.http.response" in (self.websocket.scope.get("extensions") or {}):
            body = orjson.dumps({"errors": refused.errors})
            headers = {**(refused.headers or {}), "content-type": "application/json"}
            response = Response(body, status_code=refused.status, headers=headers)
            await self.websocket.send_denial_response(response)
        else:
            await self.websocket.close(4403, refused.errors[0]["message"][:120])

    async def _flush(self, within: float = 1.0) -> None:
        """Let the writer send what is queued (before a close frame)."""
        if self.writer is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(within):
                    await self.writer.drained()

    async def _heartbeat(self) -> None:
        with contextlib.suppress(Exception):
            while True:
                await asyncio.sleep(self.keepalive)
                if self.acknowledged:
                    await self.send({"type": "ping"})

    async def _receive(self) -> dict[str, Any]:
        timeout = None if self.init_received else self.init_timeout
        try:
            message = await asyncio.wait_for(self.websocket.receive(), timeout=timeout)
        except TimeoutError:
            raise _Close(4408, "Connection initialisation timeout") from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        if text is None:
            raise _Close(4400, "Binary messages are not supported")
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise _Close(4400, "Invalid message received") from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
            raise _Close(4400, "Invalid message received")
        return parsed

    async def _receive_loop(self) -> None:
        while True:
            message = await self._receive()
            kind = message["type"]
            if kind == "connection_init":
                await self._init(message.get("payload"))
            elif kind == "ping":
                pong: dict[str, Any] = {"type": "pong"}
                if isinstance(message.get("payload"), dict):
                    pong["payload"] = message["payload"]
                await self.send(pong)
            elif kind == "pong":
                continue
            elif kind == "subscribe":
                await self._subscribe(message)
            elif kind == "complete":
                operation_id = message.get("id")
                operation = (
                    self.operations.pop(operation_id, None)
                    if isinstance(operation_id, str)
                    else None
                )
                if isinstance(operation, _Operation):
                    operation.stop()
                    self.outgoing.discard(operation.operation_id)
                elif operation is not None:
                    operation.cancel()
            else:
                raise _Close(4400, f"Unexpected message type {kind[:40]!r}")

    async def _init(self, payload: Any) -> None:
        if self.init_received:
            raise _Close(4429, "Too many initialisation requests")
        self.init_received = True
        if payload is not None and not isinstance(payload, dict):
            raise _Close(4400, "The connection_init payload must be an object")
        headers = {k.lower(): v for k, v in self.websocket.headers.items()}
        for key, value in (payload or {}).items():
            if isinstance(key, str) and isinstance(value, str) and key.lower() == "authorization":
                headers["authorization"] = value
        try:
            self.claims = await self.gateway.auth.authenticate(headers)
        except errors.RequestError:
            raise _Close(4403, "Forbidden") from None
        # Only what subgraphs may see travels on; the upgrade's own headers stay here.
        self.headers = {
            k: v for k, v in headers.items() if k in ("authorization", "traceparent", "tracestate")
        }
        self.websocket.state.claims = self.claims  # the rate limits' client key
        self.acknowledged = True
        await self.send({"type": "connection_ack"})

    def _token_expired(self) -> bool:
        exp = (self.claims or {}).get("exp")
        return isinstance(exp, int | float) and exp <= time.time()

    async def _subscribe(self, message: dict[str, Any]) -> None:
        if not self.acknowledged:
            raise _Close(4401, "Unauthorized")
        operation_id = message.get("id")
        payload = message.get("payload")
        if not isinstance(operation_id, str) or not operation_id or not isinstance(payload, dict):
            raise _Close(4400, "Invalid subscribe message")
        if operation_id in self.operations:
            raise _Close(4409, f"Subscriber for {operation_id[:64]} already exists")
        if len(self.operations) >= self.max_operations:
            raise _Close(4429, "Too many subscriptions on this connection")
        if self._token_expired():
            raise _Close(4403, "Forbidden: the token expired")
        if self.edge is not None:
            try:
                await self.edge.admit_operation(self.websocket)
            except errors.RequestError as refused:
                await self.send({"id": operation_id, "type": "error", "payload": refused.errors})
                return
        task = asyncio.create_task(self._run(operation_id, payload))
        self.operations[operation_id] = task
        task.add_done_callback(lambda _: self.forget(operation_id, task))

    def forget(self, operation_id: str, running: asyncio.Task[None] | _Operation) -> None:
        """``running`` ended: its id may be used again."""
        if self.operations.get(operation_id) is running:
            del self.operations[operation_id]

    async def _run(self, operation_id: str, payload: dict[str, Any]) -> None:
        try:
            query = payload.get("query")
            operation_name = payload.get("operationName")
            variables = payload.get("variables")
            if not isinstance(query, str) or not query.strip():
                raise errors.RequestError("Must provide query string.", code=errors.BAD_REQUEST)
            if operation_name is not None and not isinstance(operation_name, str):
                raise errors.RequestError("operationName must be a string", code=errors.BAD_REQUEST)
            if variables is not None and not isinstance(variables, dict):
                raise errors.RequestError(
                    "variables must be a JSON object", code=errors.BAD_REQUEST
                )
            prepared = self.gateway.prepare(query, operation_name or None)
            if prepared.kind != "subscription":
                result = await self.gateway.execute(
                    query=query,
                    operation_name=operation_name or None,
                    variables=variables or {},
                    headers=self.headers,
                )
                await self.send({"id": operation_id, "type": "next", "payload": result})
                await self.send({"id": operation_id, "type": "complete"})
                return
            stream = await open_stream(
                self.gateway,
                query=query,
                operation_name=operation_name or None,
                variables=variables or {},
                headers=self.headers,
                claims=self.claims,
                hub=self.hub,
            )
            if self.operations.get(operation_id) is not asyncio.current_task():
                return  # completed by the client while it was being planned
            operation = _Operation(self, operation_id, stream)
            stream.attach(operation)
        except errors.RequestError as error:
            await self.send({"id": operation_id, "type": "error", "payload": error.errors})
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Unexpected error while starting a subscription")
            await self._internal_error(operation_id)
            return
        # From here the operation lives without a task: events are pushed to it.
        self.operations[operation_id] = operation
        operation.arm_expiry()

    async def _internal_error(self, operation_id: str) -> None:
        error = errors.graphql_error("Internal server error", code=errors.INTERNAL_SERVER_ERROR)
        with contextlib.suppress(Exception):
            await self.send({"id": operation_id, "type": "error", "payload": [error]})


def websocket_endpoint(
    gateway: Gateway,
    *,
    options: SubscriptionOptions,
    hub: SubscriptionHub | None = None,
    edge: Edge | None = None,
) -> Any:
    """The ASGI WebSocket endpoint serving ``graphql-transport-ws`` on ``gateway``.

    With ``edge``, upgrades from origins CORS does not allow are refused (403) and the rate
    limits count the upgrade and each operation started on it.
    """
    hub = hub or SubscriptionHub(gateway, options)

    async def endpoint(websocket: WebSocket) -> None:
        connection = TransportWsConnection(websocket, gateway, options=options, hub=hub, edge=edge)
        try:
            await connection.serve()
        except Exception:  # never let a handler failure escape as a 1011 without a log
            log.exception("Unexpected error on a subscription websocket")
            with contextlib.suppress(Exception):
                await websocket.close(1011, "Internal error")

    return endpoint
