"""Partners known by the PARTNER role of a verified JWT (router.auth), on the real supergraph:
held to the persisted query list; per-client rate limits keyed by the token's subject."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from router.config import RouterConfig
from router.server import create_app
from shared.auth import AUDIENCE, ISSUER, issue_access_token
from shared.settings import SUBGRAPH_NAMES, Settings
from subgraphs.embedded import SUPERGRAPH_PATH, EmbeddedStack
from tests.edge.conftest import assert_clean
from tests.router.conftest import ThreadedServer, free_port

ROOT = Path(__file__).resolve().parents[2]
STORES = "{ stores { id } }"
PARTNER_STORES = "query PartnerStores {\n  stores {\n    id\n    name\n  }\n}"


@dataclass
class Running:
    client: httpx.AsyncClient
    settings: Settings

    def bearer(self, user_id: str, *roles: str) -> dict[str, str]:
        token = issue_access_token(settings=self.settings, user_id=user_id, roles=list(roles))
        return {"authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    stack = EmbeddedStack(
        settings=Settings(data_dir=tmp_path_factory.mktemp("edge-jwt")),
        router_port=0,
        subgraph_ports=dict.fromkeys(SUBGRAPH_NAMES, 0),
    )
    await stack.start()
    users = stack.subgraph_urls["users"].removesuffix("/graphql")
    jwks = {"url": f"{users}/.well-known/jwks.json", "issuer": ISSUER, "audiences": [AUDIENCE]}
    config = RouterConfig.from_mapping(
        {
            "override_subgraph_url": stack.subgraph_urls,
            "authentication": {"router": {"jwt": {"jwks": [jwks]}}},
            "persisted_queries": {
                "local_manifests": [str(ROOT / "schema" / "persisted-queries.json")]
            },
            "traffic_shaping": {"router": {"client_rate_limit": {"capacity": 3, "interval": "1h"}}},
        }
    ).with_env({})
    app = create_app(supergraph_sdl=SUPERGRAPH_PATH.read_text(encoding="utf-8"), config=config)
    server = ThreadedServer(app, free_port()).start()
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            yield Running(client=client, settings=stack.settings)
    finally:
        server.stop()
        await stack.stop()


async def test_partner_role_holds_a_token_to_the_list(running: Running) -> None:
    partner = running.bearer("usr_partner_a", "PARTNER")
    refused = await running.client.post("/graphql", json={"query": STORES}, headers=partner)
    assert refused.status_code == 403
    assert_clean(refused.json())
    assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_NOT_IN_SAFELIST"
    listed = await running.client.post("/graphql", json={"query": PARTNER_STORES}, headers=partner)
    assert listed.json()["data"]["stores"]
    customer = running.bearer("usr_customer_a", "CUSTOMER")
    free = await running.client.post("/graphql", json={"query": STORES}, headers=customer)
    assert free.json()["data"]["stores"]


async def test_client_rate_limit_is_per_token_subject(running: Running) -> None:
    first = running.bearer("usr_rate_1", "CUSTOMER")
    second = running.bearer("usr_rate_2", "CUSTOMER")
    statuses = [
        (await running.client.post("/graphql", json={"query": STORES}, headers=first)).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    other = await running.client.post("/graphql", json={"query": STORES}, headers=second)
    assert other.status_code == 200
