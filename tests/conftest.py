"""Fixtures shared by every test: subgraphs in-process over their ASGI app.

``start_subgraph("menu")`` runs a subgraph's lifespan (migrations, demo data,
consumers) on a fresh SQLite file under ``tmp_path`` and a fresh in-process bus,
and returns an ``httpx.AsyncClient`` speaking to its ``/graphql``. Subgraphs
started in one test reach each other through ``runtime.extras["peers"]``
(pass it to ``shared.subgraph_client.call_subgraph(peers=...)``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import jwt
import pytest
from asgi_lifespan import LifespanManager

from shared.auth import (
    AUDIENCE,
    CLAIMS_HEADER,
    ISSUER,
    access_token_claims,
    sign_claims_header,
)
from shared.bus import InProcessBus
from shared.keys import key_ring_for
from shared.settings import Settings
from shared.subgraph import SubgraphRuntime
from subgraphs import create_app

StartSubgraph = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Embedded-mode settings writing under this test's temporary directory."""
    return Settings(data_dir=tmp_path)


@pytest.fixture
def bus() -> InProcessBus:
    """A fresh in-process bus for this test."""
    return InProcessBus()


@pytest.fixture
async def start_subgraph(settings: Settings, bus: InProcessBus) -> AsyncIterator[StartSubgraph]:
    """Start subgraphs in-process; all are stopped when the test ends."""
    peers: dict[str, httpx.AsyncClient] = {}
    async with AsyncExitStack() as stack:

        async def start(name: str, *, load_demo_data: bool = True) -> httpx.AsyncClient:
            runtime = SubgraphRuntime.create(
                name,
                settings=settings.model_copy(update={"load_demo_data": load_demo_data}),
                bus=bus,
            )
            runtime.extras["peers"] = peers
            app = create_app(name, runtime)
            manager = await stack.enter_async_context(LifespanManager(app))
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=manager.app), base_url=f"http://{name}"
            )
            await stack.enter_async_context(client)
            client.runtime = runtime  # type: ignore[attr-defined]
            peers[name] = client
            return client

        yield start
        await bus.stop()


def bearer(
    settings: Settings, user_id: str, *roles: str, store_id: str | None = None
) -> dict[str, str]:
    """The header the router sends for ``user_id`` with ``roles``: signed ``x-pizza-claims``.

    Subgraphs trust only the router's claims header (ADR 0007); tests calling a subgraph
    directly authenticate with this instead of an access token.
    """
    claims = access_token_claims(
        settings=settings, user_id=user_id, roles=list(roles or ("CUSTOMER",)), store_id=store_id
    )
    return {CLAIMS_HEADER: sign_claims_header(claims, secret=settings.router_claims_secret)}


def as_router(settings: Settings, access_token: str) -> dict[str, str]:
    """What the router forwards for ``access_token``: verified (ES256, users' keys), then signed."""
    ring = key_ring_for(settings)
    kid = jwt.get_unverified_header(access_token)["kid"]
    key = next(k for k in ring.keys if k.kid == kid)
    claims = jwt.decode(
        access_token,
        key.private_key.public_key(),
        algorithms=["ES256"],
        audience=AUDIENCE,
        issuer=ISSUER,
    )
    return {CLAIMS_HEADER: sign_claims_header(claims, secret=settings.router_claims_secret)}


async def gql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
) -> dict[str, Any]:
    """POST one operation and return the JSON body."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, **kwargs
    )
    return response.json()
