"""Users' signing keys: generated once (0600), rotated, retired, from the environment,
published at /.well-known/jwks.json, and the tokens users issues."""

from __future__ import annotations

import json
import stat

import jwt
import pytest

from shared.auth import AUDIENCE, ISSUER, issue_access_token
from shared.keys import generate_key, key_ring_for, load_key_ring
from shared.settings import Settings
from tests.conftest import gql

LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken }
}"""


def test_embedded_mode_generates_a_private_key_file_readable_by_the_owner_only(tmp_path) -> None:
    ring = load_key_ring(Settings(data_dir=tmp_path))
    (path,) = (tmp_path / "keys").iterdir()
    assert path.name == f"{ring.signing_key.kid}.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_key_ring(Settings(data_dir=tmp_path)).signing_key.kid == ring.signing_key.kid


def test_rotation_adds_a_signing_key_and_keeps_the_old_one_published(tmp_path) -> None:
    ring = load_key_ring(Settings(data_dir=tmp_path))
    first = ring.signing_key.kid
    second = ring.rotate().kid
    assert ring.signing_key.kid == second
    assert [k["kid"] for k in ring.jwks()["keys"]] == [first, second]
    ring.retire(first)
    assert [k["kid"] for k in load_key_ring(Settings(data_dir=tmp_path)).jwks()["keys"]] == [second]


def test_the_last_key_cannot_be_retired(tmp_path) -> None:
    ring = load_key_ring(Settings(data_dir=tmp_path))
    with pytest.raises(ValueError):
        ring.retire(ring.signing_key.kid)


def test_keys_from_the_environment_sign_with_the_last_one(tmp_path) -> None:
    old, new = generate_key("old"), generate_key("new")
    env = json.dumps({"old": old.private_pem().decode(), "new": new.private_pem().decode()})
    ring = load_key_ring(Settings(data_dir=tmp_path, jwt_private_keys=env))
    assert [k.kid for k in ring.keys] == ["old", "new"]
    assert not (tmp_path / "keys").exists()


def test_a_bad_environment_key_is_reported_without_its_content(tmp_path) -> None:
    env = json.dumps({"k1": "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LW1hdGVyaWFs\n-----END"})
    with pytest.raises(ValueError) as caught:
        load_key_ring(Settings(data_dir=tmp_path, jwt_private_keys=env))
    assert "c2VjcmV0" not in str(caught.value) and "k1" in str(caught.value)
    assert caught.value.__cause__ is None


def test_the_jwks_holds_public_keys_only(tmp_path) -> None:
    (key,) = load_key_ring(Settings(data_dir=tmp_path)).jwks()["keys"]
    assert key["kty"] == "EC" and key["crv"] == "P-256" and key["alg"] == "ES256"
    assert "d" not in key


def test_access_tokens_carry_the_documented_claims(tmp_path) -> None:
    settings = Settings(data_dir=tmp_path)
    token = issue_access_token(settings=settings, user_id="usr_1", roles=["STAFF"], store_id="s1")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256"
    assert header["kid"] == key_ring_for(settings).signing_key.kid
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims.keys() >= {
        "sub",
        "roles",
        "scope",
        "store",
        "iss",
        "aud",
        "iat",
        "nbf",
        "exp",
        "jti",
    }
    assert (claims["iss"], claims["aud"], claims["store"]) == (ISSUER, AUDIENCE, "s1")
    assert "store:manage" in claims["scope"].split()
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_seconds


async def test_users_publishes_its_jwks_and_signs_logins_with_it(start_subgraph) -> None:
    users = await start_subgraph("users")
    response = await users.get("/.well-known/jwks.json")
    assert response.status_code == 200
    jwks = response.json()
    from shared import demo_ids

    login = await gql(
        users, LOGIN, {"email": "customer@pizza.example", "password": demo_ids.DEMO_PASSWORD}
    )
    token = login["data"]["login"]["accessToken"]
    kid = jwt.get_unverified_header(token)["kid"]
    (published,) = [k for k in jwks["keys"] if k["kid"] == kid]
    claims = jwt.decode(
        token, jwt.PyJWK(published).key, algorithms=["ES256"], audience=AUDIENCE, issuer=ISSUER
    )
    assert claims["sub"] == demo_ids.CUSTOMER_USER
