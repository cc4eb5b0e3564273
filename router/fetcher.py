"""Subgraph HTTP transport.

In: a subgraph name, a JSON request body (bytes) and the client's request headers (lower-case
names; only the configured ones are forwarded). Out: the parsed
GraphQL response (a dict), or ``SubgraphFetchError`` with ``SUBGRAPH_UNAVAILABLE``,
``SUBGRAPH_TIMEOUT`` or ``SUBGRAPH_BAD_RESPONSE``.

The transport is a small pooled HTTP/1.1 client (``SubgraphHTTPClient``): asyncio protocols
with httptools' response parser and keep-alive connections per origin. The router only ever
POSTs JSON to subgraphs, and httpx spent most of a warm request's time in its own layers
(docs/benchmarks.md has the profile and the httpx/aiohttp/this-client comparison).
``https://`` subgraph URLs are verified (certificate and host name) against the system's CAs
or the configured bundle (``tls.subgraph.all.certificate_authorities``, ADR 0011);
``router_ssl_context`` builds that bundle's context once for every router client (this one, the
JWKS fetch and the subscription upstreams).
"""

from __future__ import annotations

import asyncio
import ssl
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httptools
import orjson

from router import errors
from router.supergraph import Subgraph

if TYPE_CHECKING:
    from router.config import RouterConfig

_MAX_IDLE_PER_ORIGIN = 128


class _ConnectionClosed(ConnectionError):
    """The peer closed the connection before answering."""

    def __init__(self, *, received: bool) -> None:
        super().__init__("connection closed before the response was complete")
        self.received = received


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.chunks: list[bytes] = []
        self.received = False
        self.closed = False
        self.keep_alive = True

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop transports aren't subclasses

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(error)
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(_ConnectionClosed(received=self.received))

    # httptools callbacks
    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result((self.parser.get_status_code(), b"".join(self.chunks)))

    def _fail(self, error: BaseException) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request; its status and body."""
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.chunks = []
        self.received = False
        self.transport.write(request)
        return await self.waiter

    def reusable(self) -> bool:
        return not self.closed and self.keep_alive and self.waiter is None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _Origin:
    """Where requests for one URL go, with its idle keep-alive connections."""

    def __init__(self, url: str, tls: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"unsupported subgraph URL: {url}")
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl: ssl.SSLContext | None = (
            (tls or subgraph_ssl_context()) if parts.scheme == "https" else None
        )
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default_port = self.port == (443 if self.ssl else 80)
        authority = parts.netloc.rsplit("@", 1)[-1] if not default_port else self.host
        self.head = f"POST {target} HTTP/1.1\r\nhost: {authority}\r\n".encode("latin-1")
        self.idle: deque[_Connection] = deque()

    async def connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        _, connection = await loop.create_connection(
            _Connection,
            self.host,
            self.port,
            ssl=self.ssl,
            server_hostname=self.host if self.ssl else None,
        )
        return connection


def subgraph_ssl_context(ca: str | None = None) -> ssl.SSLContext:
    """A client context verifying certificates and host names; ``ca``: a PEM bundle's path or the
    PEM text itself (None: the system's CAs). Raises ``OSError`` or ``ssl.SSLError``."""
    if ca and "-----BEGIN" in ca:
        return ssl.create_default_context(cadata=ca)
    return ssl.create_default_context(cafile=ca)


def router_ssl_context(config: RouterConfig) -> ssl.SSLContext | None:
    """The context the router's clients verify ``https://``/``wss://`` peers with (subgraphs,
    JWKS, subscription upstreams): one built from ``subgraph_ca``
    (``tls.subgraph.all.certificate_authorities`` / ``ROUTER_SUBGRAPH_CA_FILE``), or None when no
    bundle is configured (each client keeps its default: the system's CAs). Raises ``OSError``
    or ``ssl.SSLError`` for an unreadable bundle."""
    if config.subgraph_ca is None:
        return None
    return subgraph_ssl_context(config.subgraph_ca)


class SubgraphHTTPClient:
    """Pooled keep-alive HTTP/1.1 client for JSON POSTs to subgraphs."""

    def __init__(self, *, ca: str | None = None) -> None:
        self.origins: dict[str, _Origin] = {}
        self.ca = ca
        self._tls: ssl.SSLContext | None = None

    def trust(self, ca: str | None, context: ssl.SSLContext | None = None) -> None:
        """Verify ``https://`` subgraphs against ``ca`` from now on (loaded now: a bad bundle fails
        here, at startup, not on the first request); ``context``: ``ca``'s context, already
        built (``router_ssl_context``) and shared with the router's other clients."""
        self.ca, self._tls = ca, context or subgraph_ssl_context(ca)
        for origin in self.origins.values():
            while origin.idle:
                origin.idle.pop().close()
        self.origins.clear()

    def origin(self, url: str) -> _Origin:
        origin = self.origins.get(url)
        if origin is None:
            tls = None
            if url[:6].lower() == "https:":
                tls = self._tls = self._tls or subgraph_ssl_context(self.ca)
            origin = self.origins[url] = _Origin(url, tls)
        return origin

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """POST ``body`` to ``url``; the response status and body. Raises ``OSError``."""
        origin = self.origin(url)
        lines = [origin.head]
        for name, value in headers.items():
            lines.append(f"{name}: {value}\r\n".encode("latin-1"))
        lines.append(b"content-length: %d\r\n\r\n" % len(body))
        lines.append(body)
        request = b"".join(lines)
        while origin.idle:
            connection = origin.idle.pop()
            if connection.reusable():
                try:
                    return await self._exchange(origin, connection, request)
                except _ConnectionClosed as error:
                    if error.received:
                        raise
                    # The server closed an idle connection as we reused it: try another one.
        return await self._exchange(origin, await origin.connect(), request)

    async def _exchange(
        self, origin: _Origin, connection: _Connection, request: bytes
    ) -> tuple[int, bytes]:
        try:
            result = await connection.exchange(request)
        except BaseException:
            # Cancelled (timeout) or failed: the connection's state is unknown, never reuse it.
            connection.close()
            raise
        if connection.reusable() and len(origin.idle) < _MAX_IDLE_PER_ORIGIN:
            origin.idle.append(connection)
        else:
            connection.close()
        return result

    async def aclose(self) -> None:
        """Close every idle connection."""
        for origin in self.origins.values():
            while origin.idle:
                origin.idle.pop().close()


def create_http_client(*, ca: str | None = None) -> SubgraphHTTPClient:
    """The pooled client the router shares between all subgraph requests."""
    return SubgraphHTTPClient(ca=ca)


def _safe_header(value: str) -> bool:
    return "\r" not in value and "\n" not in value


_InflightKey = tuple[str, bytes, tuple[tuple[str, str], ...]]  # service, body, headers


class SubgraphFetcher:
    """Sends GraphQL requests to subgraphs with per-subgraph URLs and timeouts.

    Identical query fetches in flight at the same time (same subgraph, body and forwarded
    headers) share one HTTP exchange; each caller decodes its own copy of the response.
    Queries have no side effects, so this changes no result; it spares subgraphs the same
    request many times over under load (Hive Gateway does the same by default; Apollo Router
    offers it as ``traffic_shaping.deduplicate_query``). ``deduplicate=False`` turns it off.
    """

    def __init__(
        self,
        *,
        client: SubgraphHTTPClient,
        subgraphs: Mapping[str, Subgraph],
        config: RouterConfig,
        deduplicate: bool = True,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """``tls``: ``router_ssl_context(config)`` when the caller already built it (the gateway
        shares it with the JWKS and subscription clients); built here otherwise."""
        self.client = client
        if config.subgraph_ca is not None and config.subgraph_ca != client.ca:
            client.trust(config.subgraph_ca, tls or router_ssl_context(config))
        self.urls = {name: subgraph.url for name, subgraph in subgraphs.items()}
        self.deadlines = {name: config.timeout_for(name) for name in subgraphs}
        self.forwarded = {name: config.headers_for(name) for name in subgraphs}
        self.deduplicate = deduplicate
        self.inflight: dict[_InflightKey, asyncio.Task[tuple[int, bytes]]] = {}

    async def _post(self, service: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        # The timeout bounds the whole exchange (connect, send, wait, read).
        async with asyncio.timeout(self.deadlines[service]):
            return await self.client.post(self.urls[service], body, headers)

    async def _shared_post(
        self, service: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        key = (service, body, tuple(headers.items()))
        task = self.inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._post(service, body, headers))
            self.inflight[key] = task
            task.add_done_callback(lambda done: self._settled(key, done))
        # Shielded: a caller that gives up (its client went away) leaves the others' exchange
        # running; the exchange is bounded by the subgraph's timeout on its own.
        return await asyncio.shield(task)

    def _settled(self, key: _InflightKey, task: asyncio.Task[tuple[int, bytes]]) -> None:
        if self.inflight.get(key) is task:
            del self.inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved, even when every caller went away

    async def fetch(
        self,
        service: str,
        body: bytes,
        client_headers: Mapping[str, str],
        *,
        shareable: bool = False,
    ) -> dict[str, Any]:
        """POST ``body`` to ``service``; the decoded GraphQL response.

        ``shareable``: the body is a query, so an identical fetch in flight may answer it.
        """
        request_headers = {"content-type": "application/json", "accept": "application/json"}
        for name in self.forwarded[service]:
            value = client_headers.get(name)
            if value is not None and _safe_header(value):
                request_headers[name] = value
        try:
            if shareable and self.deduplicate:
                status, content = await self._shared_post(service, body, request_headers)
            else:
                status, content = await self._post(service, body, request_headers)
        except TimeoutError as error:
            raise errors.SubgraphFetchError(
                f"Subgraph '{service}' timed out", code=errors.SUBGRAPH_TIMEOUT, service=service
            ) from error
        except (OSError, ValueError, httptools.HttpParserError) as error:
            raise errors.SubgraphFetchError(
                f"Subgraph '{service}' is unavailable: {type(error).__name__}",
                code=errors.SUBGRAPH_UNAVAILABLE,
                service=service,
            ) from error
        try:
            payload = orjson.loads(content)
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict) or ("data" not in payload and "errors" not in payload):
            raise errors.SubgraphFetchError(
                f"Subgraph '{service}' returned HTTP {status} without a GraphQL response",
                code=errors.SUBGRAPH_BAD_RESPONSE,
                service=service,
            )
        if status >= 300 and not payload.get("errors"):
            raise errors.SubgraphFetchError(
                f"Subgraph '{service}' returned HTTP {status}",
                code=errors.SUBGRAPH_BAD_RESPONSE,
                service=service,
            )
        return payload
