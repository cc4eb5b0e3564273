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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from router import errors
from router.subscriptions.options import SubscriptionOptions
from router.subscriptions.stream import TokenExpired, expired_error, open_stream

if TYPE_CHECKING:
    from router.gateway import Gateway

log = logging.getLogger("router.subscriptions")

SUBPROTOCOL = "graphql-transport-ws"


class _Close(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class TransportWsConnection:
    """One client connection and its running operations."""

    def __init__(
        self,
        websocket: WebSocket,
        gateway: Gateway,
        *,
        options: SubscriptionOptions,
    ) -> None:
        self.websocket = websocket
        self.gateway = gateway
        self.options = options
        self.max_operations = options.max_operations_per_connection
        self.keepalive = options.heartbeat_seconds
        self.init_timeout = options.init_timeout_seconds
        self.acknowledged = False
        self.init_received = False
        self.claims: dict[str, Any] | None = None
        self.headers: dict[str, str] = {}
        self.operations: dict[str, asyncio.Task[None]] = {}
        self._send_lock = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self._send_lock:
            if self.websocket.application_state == WebSocketState.CONNECTED:
                await self.websocket.send_text(orjson.dumps(message).decode())

    async def serve(self) -> None:
        offered = self.websocket.scope.get("subprotocols") or []
        if SUBPROTOCOL not in offered:
            await self.websocket.accept()
            await self.websocket.close(4406, "Subprotocol not acceptable")
            return
        await self.websocket.accept(subprotocol=SUBPROTOCOL)
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            await self._receive_loop()
        except _Close as close:
            with contextlib.suppress(Exception):
                await self.websocket.close(close.code, close.reason)
        except WebSocketDisconnect:
            pass
        finally:
            heartbeat.cancel()
            tasks = list(self.operations.values())
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            self.operations.clear()

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
                task = (
                    self.operations.pop(operation_id, None)
                    if isinstance(operation_id, str)
                    else None
                )
                if task is not None:
                    task.cancel()
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
        task = asyncio.create_task(self._run(operation_id, payload))
        self.operations[operation_id] = task
        task.add_done_callback(lambda _: self._forget(operation_id, task))

    def _forget(self, operation_id: str, task: asyncio.Task[None]) -> None:
        if self.operations.get(operation_id) is task:
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
                options=self.options,
            )
        except errors.RequestError as error:
            await self.send({"id": operation_id, "type": "error", "payload": error.errors})
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Unexpected error while starting a subscription")
            await self._internal_error(operation_id)
            return
        try:
            async for response in stream.responses():
                await self.send({"id": operation_id, "type": "next", "payload": response})
            await self.send({"id": operation_id, "type": "complete"})
        except TokenExpired:
            await self.send({"id": operation_id, "type": "error", "payload": [expired_error()]})
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("Unexpected error in a subscription")
            await self._internal_error(operation_id)
        finally:
            await stream.aclose()

    async def _internal_error(self, operation_id: str) -> None:
        error = errors.graphql_error("Internal server error", code=errors.INTERNAL_SERVER_ERROR)
        with contextlib.suppress(Exception):
            await self.send({"id": operation_id, "type": "error", "payload": [error]})


def websocket_endpoint(gateway: Gateway, *, options: SubscriptionOptions) -> Any:
    """The ASGI WebSocket endpoint serving ``graphql-transport-ws`` on ``gateway``."""

    async def endpoint(websocket: WebSocket) -> None:
        connection = TransportWsConnection(websocket, gateway, options=options)
        try:
            await connection.serve()
        except Exception:  # never let a handler failure escape as a 1011 without a log
            log.exception("Unexpected error on a subscription websocket")
            with contextlib.suppress(Exception):
                await websocket.close(1011, "Internal error")

    return endpoint
