"""Service-to-service GraphQL calls (e.g. orders asking menu to price lines).

Enters: a subgraph name, an operation and variables. Leaves: the ``data`` dict,
or a :class:`DomainError` carrying the remote error's message, code and field,
so a rule broken in menu reaches the client of orders unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from shared.auth import CLAIMS_HEADER
from shared.errors import DomainError
from shared.settings import Settings

_clients: dict[tuple[int, str], httpx.AsyncClient] = {}


class SubgraphUnavailable(DomainError):
    """Another subgraph could not be reached or answered garbage."""

    code = "SERVICE_UNAVAILABLE"


def _client(ca_file: str = "") -> httpx.AsyncClient:
    """One pooled client per event loop (and CA bundle: ``PIZZA_TLS_CA_FILE``, as the router)."""
    import asyncio
    import ssl

    key = (id(asyncio.get_running_loop()), ca_file)
    client = _clients.get(key)
    if client is None:
        verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=ca_file) if ca_file else True
        )
        client = _clients[key] = httpx.AsyncClient(
            limits=httpx.Limits(max_keepalive_connections=20), timeout=10.0, verify=verify
        )
    return client


async def call_subgraph(
    *,
    settings: Settings,
    peers: Mapping[str, httpx.AsyncClient] | None = None,
    name: str,
    query: str,
    variables: dict[str, Any] | None = None,
    authorization: str | None = None,
) -> dict[str, Any]:
    """Run ``query`` on subgraph ``name``; raise the first remote error as a DomainError.

    ``peers`` maps subgraph names to clients already bound to them (tests pass
    in-process ASGI clients); otherwise the subgraph's URL from settings is used.
    """
    headers = {"content-type": "application/json"}
    if authorization:
        # The caller's router-signed claims (SubgraphContext.authorization), passed on.
        headers[CLAIMS_HEADER] = authorization
    try:
        peer = (peers or {}).get(name)
        client, url = (
            (peer, "/graphql")
            if peer is not None
            else (_client(settings.tls_ca_file), settings.subgraph_url(name))
        )
        response = await client.post(
            url,
            content=orjson.dumps({"query": query, "variables": variables or {}}),
            headers=headers,
            timeout=settings.subgraph_timeout_seconds,
        )
        body = orjson.loads(response.content)
    except (httpx.HTTPError, orjson.JSONDecodeError) as exc:
        raise SubgraphUnavailable(f"The {name} service is unavailable; try again shortly.") from exc
    errors = body.get("errors")
    if errors:
        first = errors[0]
        ext = first.get("extensions") or {}
        raise DomainError(
            first.get("message", "error"),
            code=ext.get("code", "BAD_USER_INPUT"),
            field=ext.get("field"),
        )
    if not isinstance(body.get("data"), dict):
        raise SubgraphUnavailable(f"The {name} service answered without data.")
    return body["data"]
