"""Subgraph HTTP transport.

In: a subgraph name, a JSON request body (bytes) and the client's request headers (lower-case
names; only the configured ones are forwarded). Out: the parsed
GraphQL response (a dict), or ``SubgraphFetchError`` with ``SUBGRAPH_UNAVAILABLE``,
``SUBGRAPH_TIMEOUT`` or ``SUBGRAPH_BAD_RESPONSE``. One shared ``httpx.AsyncClient`` keeps
pooled keep-alive connections to every subgraph.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from router import errors
from router.config import RouterConfig
from router.supergraph import Subgraph

_JSON = "application/json"


def create_http_client() -> httpx.AsyncClient:
    """The pooled client the router shares between all subgraph requests."""
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=128, keepalive_expiry=30)
    return httpx.AsyncClient(limits=limits, timeout=None, http2=False)


class SubgraphFetcher:
    """Sends GraphQL requests to subgraphs with per-subgraph URLs and timeouts."""

    def __init__(
        self, *, client: httpx.AsyncClient, subgraphs: Mapping[str, Subgraph], config: RouterConfig
    ) -> None:
        self.client = client
        self.urls = {name: subgraph.url for name, subgraph in subgraphs.items()}
        self.deadlines = {name: config.timeout_for(name) for name in subgraphs}
        self.timeouts = {name: httpx.Timeout(seconds) for name, seconds in self.deadlines.items()}
        self.forwarded = {name: config.headers_for(name) for name in subgraphs}

    async def fetch(
        self, service: str, body: bytes, client_headers: Mapping[str, str]
    ) -> dict[str, Any]:
        """POST ``body`` to ``service``; the decoded GraphQL response."""
        request_headers = {"content-type": _JSON, "accept": _JSON}
        for name in self.forwarded[service]:
            value = client_headers.get(name)
            if value is not None:
                request_headers[name] = value
        try:
            # The timeout bounds the whole exchange, not each phase (connect, read...).
            async with asyncio.timeout(self.deadlines[service]):
                response = await self.client.post(
                    self.urls[service],
                    content=body,
                    headers=request_headers,
                    timeout=self.timeouts[service],
                )
        except (TimeoutError, httpx.TimeoutException) as error:
            raise errors.SubgraphFetchError(
                f"Subgraph '{service}' timed out", code=errors.SUBGRAPH_TIMEOUT, service=service
            ) from error
        except httpx.HTTPError as error:
            raise errors.SubgraphFetchError(
                f"Subgraph '{service}' is unavailable: {type(error).__name__}",
                code=errors.SUBGRAPH_UNAVAILABLE,
                service=service,
            ) from error
        try:
            payload = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict) or ("data" not in payload and "errors" not in payload):
            raise errors.SubgraphFetchError(
                f"Subgraph '{service}' returned HTTP {response.status_code} without a GraphQL response",
                code=errors.SUBGRAPH_BAD_RESPONSE,
                service=service,
            )
        if response.status_code >= 300 and not payload.get("errors"):
            raise errors.SubgraphFetchError(
                f"Subgraph '{service}' returned HTTP {response.status_code}",
                code=errors.SUBGRAPH_BAD_RESPONSE,
                service=service,
            )
        return payload
