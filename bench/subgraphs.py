"""Fast benchmark subgraphs: memoized GraphQL responses over a minimal HTTP/1.1 server.

The gateways-benchmark subgraphs are deterministic, so each distinct request body is executed
once, for real, with graphql-core against the benchmark data (``bench.gateways_benchmark.data``)
and its serialized response is kept; later requests with the same body get the stored bytes.
Bodies a gateway has not sent before are executed on arrival (first request only). The HTTP
layer is an asyncio protocol on uvloop with httptools' parser: keep-alive, ``POST /graphql``
and ``GET /stats``. This keeps the subgraphs far faster than any gateway under test (measured by
``bench.run``) so the gateways, not the subgraphs, are what the benchmark measures. It runs in
its own process, one port per subgraph (``--base-port``, default 4201..4204).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import httptools
import orjson
import uvloop
from graphql import GraphQLSchema, graphql_sync

from bench.gateways_benchmark import DEFAULT_BASE_PORT, SUBGRAPH_NAMES
from bench.gateways_benchmark.data import build_subgraph_schema

MAX_MEMOIZED = 10_000  # distinct bodies per subgraph; beyond this, execute without storing


class MemoizedSubgraph:
    """One subgraph's schema with its response cache (request body -> response bytes)."""

    def __init__(self, name: str, schema: GraphQLSchema) -> None:
        self.name = name
        self.schema = schema
        self.responses: dict[bytes, bytes] = {}
        self.hits = 0
        self.misses = 0

    def answer(self, body: bytes) -> bytes:
        """The serialized GraphQL response to ``body``."""
        cached = self.responses.get(body)
        if cached is not None:
            self.hits += 1
            return cached
        self.misses += 1
        response = self.execute(body)
        if len(self.responses) < MAX_MEMOIZED:
            self.responses[body] = response
        return response

    def execute(self, body: bytes) -> bytes:
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return orjson.dumps({"errors": [{"message": "malformed JSON"}]})
        result = graphql_sync(
            self.schema,
            request.get("query") or "",
            variable_values=request.get("variables"),
            operation_name=request.get("operationName"),
        )
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        return orjson.dumps(payload)


def _http_response(status: str, body: bytes, content_type: bytes = b"application/json") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-length: {len(body)}\r\n".encode()
        + b"content-type: "
        + content_type
        + b"\r\n\r\n"
    )
    return head + body


class _Connection(asyncio.Protocol):
    __slots__ = ("body", "parser", "subgraph", "transport", "url")

    def __init__(self, subgraph: MemoizedSubgraph) -> None:
        self.subgraph = subgraph
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.body: list[bytes] = []
        self.url = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's transports are not subclasses

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(_http_response("400 Bad Request", b""))
            self.transport.close()

    # httptools callbacks
    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        method = self.parser.get_method()
        if method == b"POST":
            response = _http_response("200 OK", self.subgraph.answer(b"".join(self.body)))
        elif method == b"GET" and self.url.startswith(b"/stats"):
            stats = {"hits": self.subgraph.hits, "misses": self.subgraph.misses}
            response = _http_response("200 OK", orjson.dumps(stats))
        else:
            response = _http_response("405 Method Not Allowed", b"")
        self.body.clear()
        self.url = b""
        self.transport.write(response)
        if not self.parser.should_keep_alive():
            self.transport.close()


async def serve(base_port: int, host: str = "127.0.0.1") -> None:
    """Serve the four subgraphs until cancelled."""
    loop = asyncio.get_running_loop()
    servers = []
    for index, name in enumerate(SUBGRAPH_NAMES):
        subgraph = MemoizedSubgraph(name, build_subgraph_schema(name))
        server = await loop.create_server(
            lambda subgraph=subgraph: _Connection(subgraph), host, base_port + index, backlog=1024
        )
        servers.append(server)
        print(f"{name} on http://{host}:{base_port + index}/graphql", flush=True)
    await asyncio.gather(*(server.serve_forever() for server in servers))


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.subgraphs [--base-port 4201]``."""
    parser = argparse.ArgumentParser(prog="python -m bench.subgraphs", description=__doc__)
    parser.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT)
    args = parser.parse_args(argv)
    uvloop.run(serve(args.base_port))


if __name__ == "__main__":
    main()
