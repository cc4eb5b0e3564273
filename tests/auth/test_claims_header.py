"""``x-pizza-claims``: subgraphs trust identity only from the router's signed header."""

from __future__ import annotations

import base64
import json

from router.auth.claims import DEV_CLAIMS_SECRET, sign_claims
from shared import demo_ids
from shared.auth import CLAIMS_HEADER, claims_from_header
from shared.settings import DEV_ROUTER_CLAIMS_SECRET
from tests.conftest import bearer, gql

ME = "{ me { id name } }"


def test_router_and_subgraphs_share_the_dev_default() -> None:
    assert DEV_CLAIMS_SECRET == DEV_ROUTER_CLAIMS_SECRET


def test_a_header_the_router_signs_is_what_subgraphs_read() -> None:
    value = sign_claims({"sub": "usr_1", "roles": ["STAFF"], "store": "s1"}, secret="k" * 32)
    assert claims_from_header(value, secret="k" * 32) == {
        "sub": "usr_1",
        "roles": ["STAFF"],
        "store": "s1",
    }


async def test_subgraph_reads_the_caller_from_a_signed_header(start_subgraph, settings) -> None:
    users = await start_subgraph("users")
    body = await gql(users, ME, headers=bearer(settings, demo_ids.CUSTOMER_USER))
    assert body["data"]["me"]["id"] == demo_ids.CUSTOMER_USER


async def test_header_signed_with_another_secret_is_refused(start_subgraph, settings) -> None:
    users = await start_subgraph("users")
    forged = sign_claims({"sub": demo_ids.ADMIN_USER, "roles": ["ADMIN"]}, secret="guess" * 8)
    body = await gql(users, ME, headers={CLAIMS_HEADER: forged})
    assert body["data"] is None or body["data"]["me"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_tampered_header_is_refused(start_subgraph, settings) -> None:
    users = await start_subgraph("users")
    value = bearer(settings, demo_ids.CUSTOMER_USER)[CLAIMS_HEADER]
    version, payload, mac = value.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["claims"]["sub"] = demo_ids.ADMIN_USER
    data["claims"]["roles"] = ["ADMIN"]
    raw = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    body = await gql(users, ME, headers={CLAIMS_HEADER: f"{version}.{raw}.{mac}"})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_expired_header_is_refused(start_subgraph, settings) -> None:
    users = await start_subgraph("users")
    stale = sign_claims(
        {"sub": demo_ids.CUSTOMER_USER, "roles": ["CUSTOMER"]},
        secret=settings.router_claims_secret,
        now=0,
    )
    body = await gql(users, ME, headers={CLAIMS_HEADER: stale})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_end_user_token_sent_to_a_subgraph_is_ignored(start_subgraph, settings) -> None:
    """Subgraphs no longer read Authorization: only the router turns tokens into claims."""
    users = await start_subgraph("users")
    login = await gql(
        users,
        'mutation($p: String!) { login(input: {email: "customer@pizza.example", password: $p})'
        " { accessToken } }",
        {"p": demo_ids.DEMO_PASSWORD},
    )
    token = login["data"]["login"]["accessToken"]
    body = await gql(users, ME, headers={"authorization": f"Bearer {token}"})
    assert body["data"]["me"] is None
