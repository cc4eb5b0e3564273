"""A minimal ``graphql-transport-ws`` subscriber for load generation (``make bench-live``).

Thousands of subscribers in one client process must cost less than the server they measure:
the ``websockets`` client spends tens of microseconds per message in its asyncio machinery,
which at 10,000 messages a burst put the load generator, not the router, on the critical
path. This is an ``asyncio.Protocol`` that speaks just what a subscriber needs — the HTTP
upgrade, unmasked server frames (text, ping, close; no fragmentation, no extensions), masked
client frames — and hands each ``next`` payload to a callback synchronously, in the loop's
read callback. Tests use real clients (``gql``); this is for ``bench.live`` only.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson

_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA


def _frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (RFC 6455 5.3: clients must mask)."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    key = os.urandom(4)
    repeated = (key * (length // 4 + 1))[:length]
    masked = (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        length, "big"
    )
    return header + key + masked


class Subscriber(asyncio.Protocol):
    """One connection with one subscription; ``on_next(payload)`` runs for every event."""

    def __init__(
        self,
        *,
        url: str,
        token: str,
        query: str,
        variables: dict[str, Any],
        on_next: Callable[[dict[str, Any]], None],
    ) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/"
        self.token = token
        self.subscribe = orjson.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}
        )
        self.on_next = on_next
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def connect(self) -> None:
        """Open the connection, upgrade, ``connection_init``, wait for the ack, subscribe."""
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(60):
            await loop.create_connection(lambda: self, self.host, self.port)
            await asyncio.shield(self.acknowledged)
        self.send(self.subscribe)

    def send(self, text: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_frame(_TEXT, text))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    # -- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        )
        transport.write(request.encode())  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        reason = f"connection lost ({type(exc).__name__})" if exc else "connection closed"
        for future in (self.acknowledged, self.closed):
            if not future.done():
                if future is self.closed:
                    future.set_result(reason)
                else:
                    future.set_exception(ConnectionError(reason))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[: self.buffer.find(b"\r\n")])
            del self.buffer[: end + 4]
            if b" 101 " not in status:
                self._fail(f"upgrade refused: {status.decode(errors='replace')}")
                return
            self.upgraded = True
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
            self.send(orjson.dumps(init))
        self._frames()

    # -- frames and messages

    def _frames(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode = buffer[0] & 0x0F
            length = buffer[1] & 0x7F
            start = 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length = int.from_bytes(buffer[2:4], "big")
                start = 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length = int.from_bytes(buffer[2:10], "big")
                start = 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            if opcode == _TEXT:
                self._message(orjson.loads(payload))
            elif opcode == _PING and self.transport is not None:
                self.transport.write(_frame(_PONG, payload))
            elif opcode == _CLOSE:
                code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self._fail(f"closed by the server ({code} {payload[2:].decode(errors='replace')})")
                return

    def _message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "next":
            self.on_next(message["payload"])
        elif kind == "connection_ack":
            if not self.acknowledged.done():
                self.acknowledged.set_result(None)
        elif kind == "ping":
            self.send(b'{"type":"pong"}')
        elif kind in ("error", "complete"):
            self._fail(f"{kind}: {str(message)[:200]}")

    def _fail(self, reason: str) -> None:
        if not self.acknowledged.done():
            self.acknowledged.set_exception(ConnectionError(reason))
        if not self.closed.done():
            self.closed.set_result(reason)
        self.close()
