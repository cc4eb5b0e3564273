"""The router's subgraph HTTP/1.1 client: keep-alive pooling, closed connections, chunked bodies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from router.fetcher import SubgraphHTTPClient

BODY = b'{"data":{"ok":true}}'


@dataclass
class FakeSubgraph:
    """A raw HTTP server: counts connections, records request heads, answers each request."""

    url: str = ""
    connections: int = 0
    heads: list[bytes] = field(default_factory=list)
    close_after_response: bool = False
    chunked: bool = False
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                await reader.readexactly(length)
                writer.write(self.response())
                await writer.drain()
                if self.close_after_response:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()

    def response(self) -> bytes:
        connection = b"connection: close\r\n" if self.close_after_response else b""
        if self.chunked:
            half = len(BODY) // 2
            chunks = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in (BODY[:half], BODY[half:]))
            return (
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n"
                + connection
                + b"\r\n"
                + chunks
                + b"0\r\n\r\n"
            )
        return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (
            len(BODY),
            connection,
            BODY,
        )

    def drop_idle_connections(self) -> None:
        for writer in self.writers:
            writer.close()
        self.writers.clear()


@pytest.fixture
async def subgraph() -> AsyncIterator[FakeSubgraph]:
    fake = FakeSubgraph()
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    fake.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/graphql"
    yield fake
    server.close()


@pytest.fixture
async def client() -> AsyncIterator[SubgraphHTTPClient]:
    http = SubgraphHTTPClient()
    yield http
    await http.aclose()


async def test_sequential_requests_reuse_one_connection(
    subgraph: FakeSubgraph, client: SubgraphHTTPClient
) -> None:
    for _ in range(3):
        assert await client.post(subgraph.url, b"{}", {}) == (200, BODY)
    assert subgraph.connections == 1


async def test_concurrent_requests_use_separate_connections(
    subgraph: FakeSubgraph, client: SubgraphHTTPClient
) -> None:
    results = await asyncio.gather(*(client.post(subgraph.url, b"{}", {}) for _ in range(3)))
    assert results == [(200, BODY)] * 3
    assert subgraph.connections == 3


async def test_request_carries_host_length_and_given_headers(
    subgraph: FakeSubgraph, client: SubgraphHTTPClient
) -> None:
    await client.post(subgraph.url, b'{"query":"{a}"}', {"authorization": "Bearer t"})
    (head,) = subgraph.heads
    port = subgraph.url.split(":")[2].split("/")[0]
    assert head.startswith(b"POST /graphql HTTP/1.1\r\n")
    assert f"host: 127.0.0.1:{port}\r\n".encode() in head
    assert b"authorization: Bearer t\r\n" in head
    assert b"content-length: 15\r\n" in head


async def test_a_connection_the_subgraph_closed_while_idle_is_replaced(
    subgraph: FakeSubgraph, client: SubgraphHTTPClient
) -> None:
    await client.post(subgraph.url, b"{}", {})
    subgraph.drop_idle_connections()
    await asyncio.sleep(0.05)
    assert await client.post(subgraph.url, b"{}", {}) == (200, BODY)
    assert subgraph.connections == 2


async def test_connection_close_responses_are_not_reused(
    subgraph: FakeSubgraph, client: SubgraphHTTPClient
) -> None:
    subgraph.close_after_response = True
    for _ in range(2):
        assert await client.post(subgraph.url, b"{}", {}) == (200, BODY)
    assert subgraph.connections == 2


async def test_chunked_bodies_are_reassembled(
    subgraph: FakeSubgraph, client: SubgraphHTTPClient
) -> None:
    subgraph.chunked = True
    assert await client.post(subgraph.url, b"{}", {}) == (200, BODY)
    assert await client.post(subgraph.url, b"{}", {}) == (200, BODY)
    assert subgraph.connections == 1


async def test_a_cancelled_request_never_leaves_its_connection_in_the_pool(
    subgraph: FakeSubgraph, client: SubgraphHTTPClient
) -> None:
    task = asyncio.create_task(client.post(subgraph.url, b"{}", {}))
    await asyncio.sleep(0)  # connecting
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await client.post(subgraph.url, b"{}", {}) == (200, BODY)
    assert all(not c.closed for c in client.origin(subgraph.url).idle)


async def test_unreachable_subgraph_raises_oserror(client: SubgraphHTTPClient) -> None:
    with pytest.raises(OSError):
        await client.post("http://127.0.0.1:9/graphql", b"{}", {})
