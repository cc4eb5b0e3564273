"""The router's JWT validation: what it accepts and every way a token is refused.

Each refusal is ``AuthenticationFailed`` (HTTP 401, ``UNAUTHENTICATED``) with the reason
kept for the log only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from cryptography.hazmat.primitives import serialization

from router.auth.jwt import AuthenticationFailed
from shared.keys import generate_key
from tests.auth.conftest import bearer_header, now


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict, claims: dict) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


async def refused(authenticator, token: str) -> str:
    with pytest.raises(AuthenticationFailed) as caught:
        await authenticator.authenticate(bearer_header(token))
    assert caught.value.status == 401
    assert caught.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
    return caught.value.reason


async def test_a_token_users_would_issue_is_accepted(authenticator, make_token) -> None:
    claims = await authenticator.authenticate(bearer_header(make_token()))
    assert claims["sub"] == "usr_test"
    assert "orders:place" in claims["scope"].split()


async def test_no_authorization_header_is_anonymous(authenticator) -> None:
    assert await authenticator.authenticate({}) is None


async def test_alg_none_is_refused(authenticator, ring) -> None:
    claims = {"sub": "usr_admin", "roles": ["ADMIN"], "exp": now() + 600}
    token = _unsigned({"alg": "none", "kid": ring.signing_key.kid}, claims) + "."
    assert "not accepted" in await refused(authenticator, token)


async def test_hs256_signed_with_the_public_key_is_refused(authenticator, ring) -> None:
    """Algorithm confusion: the published key used as an HMAC secret."""
    public_pem = ring.signing_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = {"sub": "usr_admin", "roles": ["ADMIN"], "exp": now() + 600}
    claims |= {"iss": "pizza-users", "aud": "pizza-supergraph"}
    for secret in (public_pem, json.dumps(ring.signing_key.public_jwk).encode()):
        signing_input = _unsigned({"alg": "HS256", "kid": ring.signing_key.kid}, claims)
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert "not accepted" in await refused(authenticator, f"{signing_input}.{_b64(mac)}")


async def test_expired_token_is_refused(authenticator, make_token) -> None:
    token = make_token(iat=now() - 3600, nbf=now() - 3600, exp=now() - 120)
    assert await refused(authenticator, token) == "expired"


async def test_token_not_yet_valid_is_refused(authenticator, make_token) -> None:
    token = make_token(nbf=now() + 600, exp=now() + 1200)
    assert await refused(authenticator, token) == "not yet valid"


async def test_wrong_issuer_is_refused(authenticator, make_token) -> None:
    assert await refused(authenticator, make_token(iss="evil-issuer")) == "wrong issuer"


async def test_wrong_audience_is_refused(authenticator, make_token) -> None:
    assert await refused(authenticator, make_token(aud="another-api")) == "wrong audience"


async def test_missing_expiry_is_refused(authenticator, make_token) -> None:
    assert "invalid" in await refused(authenticator, make_token(exp=None))


async def test_unknown_kid_is_refused(authenticator, make_token) -> None:
    stranger = generate_key()
    assert await refused(authenticator, make_token(key=stranger)) == "no published key has this kid"


async def test_known_kid_with_a_foreign_signature_is_refused(
    authenticator, make_token, ring
) -> None:
    stranger = generate_key(kid=ring.signing_key.kid)
    assert "invalid" in await refused(authenticator, make_token(key=stranger))


async def test_tampered_payload_is_refused(authenticator, make_token) -> None:
    header, payload, signature = make_token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["roles"] = ["ADMIN"]
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    assert "invalid" in await refused(authenticator, forged)


@pytest.mark.parametrize(
    "value",
    ["Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer a.b.c", "Bearer ....", "token"],
)
async def test_malformed_authorization_is_refused(authenticator, value) -> None:
    with pytest.raises(AuthenticationFailed):
        await authenticator.authenticate({"authorization": value})
