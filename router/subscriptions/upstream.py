"""The router's side of a subscription at the owning subgraph (``graphql-transport-ws``).

In: the subgraph's URL, the pre-printed subscription operation of the plan's root fetch, its
variables and a function giving the headers of each connection (a freshly signed
``x-pizza-claims``: the header expires after a minute, a stream lasts longer).
Out: the subgraph's ``next`` payloads (``{"data": ..., "errors": ...}``) as an async iterator
that ends when the subgraph completes the operation. When the connection drops without a
``complete`` (subgraph restarted, network blip) it reconnects and subscribes again with
backoff, so the client never notices; after ``give_up_after`` seconds without a connection it
yields one ``SUBGRAPH_UNAVAILABLE`` error and ends. ``wss://`` upstreams are verified against
``tls`` when given (the router's ``tls.subgraph.all.certificate_authorities`` context, ADR 0011),
the system's CAs otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import orjson
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from router import errors

log = logging.getLogger("router.subscriptions")

SUBPROTOCOL = "graphql-transport-ws"


def websocket_url(http_url: str) -> str:
    """``http(s)://host/graphql`` as ``ws(s)://host/graphql``."""
    if http_url.startswith("https://"):
        return "wss://" + http_url.removeprefix("https://")
    if http_url.startswith("http://"):
        return "ws://" + http_url.removeprefix("http://")
    return http_url


class UpstreamSubscription:
    """One subscription at one subgraph, resubscribed after connection failures."""

    def __init__(
        self,
        *,
        service: str,
        url: str,
        operation: str,
        operation_name: str | None,
        variables: Mapping[str, Any],
        headers: Callable[[], dict[str, str]],
        give_up_after: float = 60.0,
        max_backoff: float = 2.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.service = service
        self.url = websocket_url(url)
        self.tls = tls
        """The context a ``wss://`` connection is verified with (None: the system's CAs)."""
        self.operation = operation
        self.operation_name = operation_name
        self.variables = dict(variables)
        self.headers = headers
        self.give_up_after = give_up_after
        self.max_backoff = max_backoff
        self.connections = 0
        """How many times a connection was opened (1 + resubscriptions)."""

    def _subscribe_message(self) -> bytes:
        payload: dict[str, Any] = {"query": self.operation, "variables": self.variables}
        if self.operation_name:
            payload["operationName"] = self.operation_name
        return orjson.dumps({"id": "1", "type": "subscribe", "payload": payload})

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        """The subgraph's payloads until it completes the operation."""
        loop = asyncio.get_running_loop()
        failing_since: float | None = None
        attempt = 0
        # websockets refuses ``ssl=`` with a ``ws://`` URL; without it, ``wss://`` uses the default.
        secure = self.url.lower().startswith("wss://")
        tls: dict[str, Any] = {"ssl": self.tls} if self.tls is not None and secure else {}
        while True:
            try:
                async with connect(
                    self.url,
                    subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
                    additional_headers=self.headers(),
                    open_timeout=5,
                    ping_interval=15,
                    ping_timeout=15,
                    max_size=8 * 1024 * 1024,
                    **tls,
                ) as ws:
                    await ws.send(orjson.dumps({"type": "connection_init", "payload": {}}).decode())
                    await asyncio.wait_for(self._acknowledged(ws), timeout=5)
                    await ws.send(self._subscribe_message().decode())
                    self.connections += 1
                    failing_since, attempt = None, 0
                    async for raw in ws:
                        message = orjson.loads(raw)
                        kind = message.get("type") if isinstance(message, dict) else None
                        if kind == "next" and isinstance(message.get("payload"), dict):
                            yield message["payload"]
                        elif kind == "error":
                            payload = message.get("payload")
                            yield {
                                "data": None,
                                "errors": payload if isinstance(payload, list) else [],
                            }
                            return
                        elif kind == "complete":
                            return
                        elif kind == "ping":
                            await ws.send(orjson.dumps({"type": "pong"}).decode())
                    log.info("subscription to %s dropped; subscribing again", self.service)
            except (OSError, WebSocketException, TimeoutError, orjson.JSONDecodeError) as error:
                log.info("subscription to %s failed (%s)", self.service, type(error).__name__)
            now = loop.time()
            failing_since = failing_since if failing_since is not None else now
            if now - failing_since >= self.give_up_after:
                yield {
                    "data": None,
                    "errors": [
                        errors.graphql_error(
                            f"The subscription to {self.service} could not be restored",
                            code=errors.SUBGRAPH_UNAVAILABLE,
                            extra={"serviceName": self.service},
                        )
                    ],
                }
                return
            attempt += 1
            await asyncio.sleep(min(self.max_backoff, 0.05 * 2**attempt))

    async def _acknowledged(self, ws: Any) -> None:
        async for raw in ws:
            message = orjson.loads(raw)
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "connection_ack":
                return
            if kind == "ping":
                await ws.send(orjson.dumps({"type": "pong"}).decode())
        raise ConnectionError("closed before connection_ack")
