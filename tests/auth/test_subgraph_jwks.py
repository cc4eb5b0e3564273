"""``PIZZA_TRUST_JWT_FROM_JWKS_URL``: subgraphs verify end-user tokens themselves.

For a router that does not sign ``x-pizza-claims`` (Apollo Router, the
``overlays/apollo-router`` Kubernetes overlay): it validates the token, propagates
``Authorization``, and each subgraph verifies that bearer against users' JWKS (ES256,
issuer, audience, expiry) and turns it into a claims header signed with its own
``PIZZA_ROUTER_CLAIMS_SECRET`` (so peers and ``SubgraphContext.principal`` work unchanged).
Unset (the default), a subgraph ignores ``Authorization`` as before (ADR 0007).

The JWKS is users' key ring served over ``httpx.MockTransport``: no network.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from router.auth.config import JwksSource, JwtConfig
from router.auth.jwks import JwksCache
from router.auth.jwt import JwtAuthenticator
from shared import auth, demo_ids
from shared.auth import (
    AUDIENCE,
    CLAIMS_HEADER,
    ISSUER,
    REFUSED_CLAIMS_HEADER,
    claims_header_for_request,
    issue_access_token,
    principal_from_claims_header,
)
from shared.errors import Unauthenticated
from shared.keys import KeyRing, generate_key, key_ring_for
from shared.settings import Settings
from tests.conftest import bearer, gql

JWKS_URL = "http://users.test/.well-known/jwks.json"
ME = "{ me { id } }"


@pytest.fixture
def trust() -> bool:
    """Whether the subgraphs of the test run with the option (parametrize to turn it off)."""
    return True


@pytest.fixture
def settings(tmp_path, trust: bool) -> Settings:
    """Overrides tests.conftest.settings: the option on unless ``trust`` is False."""
    return Settings(data_dir=tmp_path, trust_jwt_from_jwks_url=JWKS_URL if trust else "")


@pytest.fixture
def ring(settings: Settings) -> KeyRing:
    """Users' key ring (the one ``issue_access_token`` signs with)."""
    return key_ring_for(settings)


@pytest.fixture
def jwks_fetches(ring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """Serve users' JWKS at ``JWKS_URL`` to the subgraphs' validator; the list of fetches."""
    fetches: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        fetches.append(request)
        assert str(request.url) == JWKS_URL
        return httpx.Response(200, json=ring.jwks())

    source = JwksSource(url=JWKS_URL, issuer=ISSUER, audiences=(AUDIENCE,), algorithms=("ES256",))
    cache = JwksCache((source,), client=httpx.AsyncClient(transport=httpx.MockTransport(handle)))
    verifiers = {JWKS_URL: JwtAuthenticator(JwtConfig(jwks=(source,)), jwks=cache)}
    monkeypatch.setattr(auth, "_bearer_verifiers", verifiers)
    return fetches


def token(ring: KeyRing, *, key: Any = None, **overrides: Any) -> str:
    """An access token for the demo customer as users signs it, claims overridden."""
    now = int(time.time())
    claims = {
        "sub": demo_ids.CUSTOMER_USER,
        "roles": ["CUSTOMER"],
        "scope": "profile orders:place reviews:write",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        **overrides,
    }
    signing = ring.signing_key
    return jwt.encode(
        claims,
        (key or signing).private_key,
        algorithm="ES256",
        headers={"kid": signing.kid, "typ": "at+jwt"},
    )


def authorization(value: str) -> dict[str, str]:
    return {"authorization": f"Bearer {value}"}


def bad_tokens(ring: KeyRing) -> dict[str, str]:
    """Tokens a subgraph must refuse, by reason."""
    now = int(time.time())
    return {
        "forged": token(ring, key=generate_key()),  # the published kid, another key
        "expired": token(ring, iat=now - 3600, nbf=now - 3600, exp=now - 600),
        "wrong-audience": token(ring, aud="someone-else"),
        "wrong-issuer": token(ring, iss="someone-else"),
        "hs256-with-public-key": jwt.encode(
            {"sub": demo_ids.ADMIN_USER, "iss": ISSUER, "aud": AUDIENCE, "exp": now + 900},
            "x" * 32,
            algorithm="HS256",
            headers={"kid": ring.signing_key.kid},
        ),
        "garbage": "not-a-jwt",
    }


# --- shared.auth.claims_header_for_request ----------------------------------------------------


async def test_valid_bearer_becomes_a_claims_header_the_subgraphs_accept(
    settings, ring, jwks_fetches
) -> None:
    value = await claims_header_for_request(authorization(token(ring)), settings=settings)
    assert value is not None
    principal = principal_from_claims_header(value, settings=settings)
    assert principal is not None
    assert principal.user_id == demo_ids.CUSTOMER_USER
    assert principal.roles == {"CUSTOMER"}
    assert "orders:place" in principal.scopes
    assert len(jwks_fetches) == 1


async def test_the_real_issuer_token_is_accepted(settings, ring, jwks_fetches) -> None:
    issued = issue_access_token(settings=settings, user_id="usr_x", roles=["STAFF"], store_id="s1")
    value = await claims_header_for_request(authorization(issued), settings=settings)
    principal = principal_from_claims_header(value, settings=settings)
    assert principal is not None
    assert (principal.user_id, principal.store_id, principal.is_staff) == ("usr_x", "s1", True)


@pytest.mark.parametrize(
    "reason",
    ["forged", "expired", "wrong-audience", "wrong-issuer", "hs256-with-public-key", "garbage"],
)
async def test_bad_bearer_is_refused(settings, ring, jwks_fetches, reason) -> None:
    value = await claims_header_for_request(
        authorization(bad_tokens(ring)[reason]), settings=settings
    )
    assert value == REFUSED_CLAIMS_HEADER
    with pytest.raises(Unauthenticated):
        principal_from_claims_header(value, settings=settings)


async def test_claims_header_wins_over_a_bearer(settings, ring, jwks_fetches) -> None:
    signed = bearer(settings, demo_ids.ADMIN_USER, "ADMIN")
    headers = {**signed, **authorization(token(ring))}
    assert await claims_header_for_request(headers, settings=settings) == signed[CLAIMS_HEADER]
    assert jwks_fetches == []


async def test_no_header_is_anonymous(settings, jwks_fetches) -> None:
    assert await claims_header_for_request({}, settings=settings) is None
    assert jwks_fetches == []


@pytest.mark.parametrize("trust", [False])
async def test_without_the_option_a_bearer_is_ignored(settings, ring, jwks_fetches) -> None:
    for value in (token(ring), bad_tokens(ring)["forged"]):
        assert await claims_header_for_request(authorization(value), settings=settings) is None
    assert jwks_fetches == []


def test_the_option_defaults_to_off(monkeypatch) -> None:
    monkeypatch.delenv("PIZZA_TRUST_JWT_FROM_JWKS_URL", raising=False)
    assert Settings().trust_jwt_from_jwks_url == ""
    monkeypatch.setenv("PIZZA_TRUST_JWT_FROM_JWKS_URL", JWKS_URL)
    assert Settings().trust_jwt_from_jwks_url == JWKS_URL


# --- a subgraph started with the option -------------------------------------------------------


async def test_subgraph_accepts_a_valid_bearer(start_subgraph, ring, jwks_fetches) -> None:
    users = await start_subgraph("users")
    body = await gql(users, ME, headers=authorization(token(ring)))
    assert body.get("errors") is None, body
    assert body["data"]["me"]["id"] == demo_ids.CUSTOMER_USER


@pytest.mark.parametrize("reason", ["forged", "expired", "wrong-audience"])
async def test_subgraph_refuses_a_bad_bearer(start_subgraph, ring, jwks_fetches, reason) -> None:
    users = await start_subgraph("users")
    body = await gql(users, ME, headers=authorization(bad_tokens(ring)[reason]))
    assert body["data"] is None or body["data"]["me"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("trust", [False])
async def test_subgraph_without_the_option_ignores_a_bearer(
    start_subgraph, ring, jwks_fetches
) -> None:
    """Anonymous, not refused: ``me`` is null without an error (a refused token errors)."""
    users = await start_subgraph("users")
    for value in (token(ring), bad_tokens(ring)["forged"]):
        body = await gql(users, ME, headers=authorization(value))
        assert body == {"data": {"me": None}}
    assert jwks_fetches == []
