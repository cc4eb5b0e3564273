"""Authentication at the router of the embedded stack: bad tokens get 401 UNAUTHENTICATED
and are never logged; signed-in callers reach their data; the directives apply; rotation."""

from __future__ import annotations

import logging

import httpx
import jwt
import pytest

from shared import demo_ids
from shared.keys import key_ring_for
from tests.auth.conftest import Caller, sign_in

HS256_TOKEN = jwt.encode(
    {"sub": "usr_x", "exp": 1, "iss": "pizza-users", "aud": "pizza-supergraph"},
    "x" * 32,
    algorithm="HS256",
)
BAD_TOKENS = {
    "alg none": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    "hs256 and expired": HS256_TOKEN,
    "garbage": "not-a-token-at-all",
    "truncated": "eyJhbGciOiJFUzI1NiJ9.eyJzdWIi",
}
ME = "{ me { id name } }"
ME_AND_STORES = "{ me { id } stores { id } }"
USERS = "{ users(first: 5) { totalCount } }"


@pytest.fixture
async def client():
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
@pytest.mark.parametrize("accept", ["application/json", "application/graphql-response+json"])
async def test_bad_tokens_are_401_unauthenticated_and_not_logged(
    auth_stack, client, caplog, name, accept
) -> None:
    token = BAD_TOKENS[name]
    caplog.set_level(logging.DEBUG)
    response = await client.post(
        auth_stack.router_url,
        json={"query": ME},
        headers={"authorization": f"Bearer {token}", "accept": accept},
    )
    assert response.status_code == 401
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in body
    assert token not in response.text
    assert token not in caplog.text
    assert "access token" in caplog.text  # the refusal is logged, with its reason only


async def test_expired_token_from_users_keys_is_refused(auth_stack, client, caplog) -> None:
    from shared.auth import issue_access_token

    settings = auth_stack.settings.model_copy(update={"access_token_ttl_seconds": -120})
    token = issue_access_token(
        settings=settings, user_id=demo_ids.CUSTOMER_USER, roles=["CUSTOMER"]
    )
    caplog.set_level(logging.DEBUG)
    response = await Caller(client, auth_stack.router_url, token).post(ME)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert token not in caplog.text


async def test_signed_in_caller_is_known_to_subgraphs(auth_stack, client) -> None:
    customer = await sign_in(
        client, auth_stack.router_url, "customer@pizza.example", demo_ids.DEMO_PASSWORD
    )
    assert (await customer.data(ME))["me"]["id"] == demo_ids.CUSTOMER_USER


async def test_anonymous_me_is_removed_and_the_rest_runs(auth_stack, client) -> None:
    body = await Caller(client, auth_stack.router_url).gql(ME_AND_STORES)
    assert body["data"]["me"] is None
    assert len(body["data"]["stores"]) == len(demo_ids.STORES)
    assert body["errors"] == [
        {
            "message": "Unauthorized field or type",
            "path": ["me"],
            "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"},
        }
    ]


async def test_users_list_needs_the_users_read_scope(auth_stack, client) -> None:
    url = auth_stack.router_url
    customer = await sign_in(client, url, "customer@pizza.example", demo_ids.DEMO_PASSWORD)
    refused = await customer.gql(USERS)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    admin = await sign_in(client, url, "admin@pizza.example", demo_ids.DEMO_PASSWORD)
    assert (await admin.data(USERS))["users"]["totalCount"] >= 1


async def test_a_client_cannot_claim_an_identity_with_the_claims_header(auth_stack, client) -> None:
    from shared.auth import CLAIMS_HEADER, sign_claims_header

    forged = sign_claims_header({"sub": demo_ids.ADMIN_USER, "roles": ["ADMIN"]}, secret="guess")
    response = await client.post(
        auth_stack.router_url,
        json={
            "query": "query($id: ID!) { user(id: $id) { email } }",
            "variables": {"id": demo_ids.ADMIN_USER},
        },
        headers={CLAIMS_HEADER: forged},
    )
    body = response.json()
    assert body["data"]["user"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_tokens_of_a_rotated_key_and_of_the_new_key_are_both_accepted(
    auth_stack, client
) -> None:
    url = auth_stack.router_url
    before = await sign_in(client, url, "customer@pizza.example", demo_ids.DEMO_PASSWORD)
    await before.data(ME)
    ring = key_ring_for(auth_stack.settings)
    new_kid = ring.rotate().kid
    after = await sign_in(client, url, "customer@pizza.example", demo_ids.DEMO_PASSWORD)
    assert jwt.get_unverified_header(after.token)["kid"] == new_kid
    assert (await after.data(ME))["me"]["id"] == demo_ids.CUSTOMER_USER
    assert (await before.data(ME))["me"]["id"] == demo_ids.CUSTOMER_USER
