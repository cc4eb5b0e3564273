"""The router's JWKS cache: fetched once, refreshed on its interval, refetched for a new kid
(rate-limited), and key rotation seen from the router."""

from __future__ import annotations

import pytest

from router.auth.jwt import AuthenticationFailed
from tests.auth.conftest import bearer_header


async def test_keys_are_fetched_once_and_reused(authenticator, jwks_server, make_token) -> None:
    for _ in range(5):
        await authenticator.authenticate(bearer_header(make_token()))
    assert jwks_server.requests == 1


async def test_keys_are_refreshed_after_the_poll_interval(
    authenticator, jwks_server, make_token, clock
) -> None:
    await authenticator.authenticate(bearer_header(make_token()))
    clock.now += 61
    await authenticator.authenticate(bearer_header(make_token()))
    assert jwks_server.requests == 2


async def test_a_failed_refresh_keeps_the_known_keys(
    authenticator, jwks_server, make_token, clock
) -> None:
    await authenticator.authenticate(bearer_header(make_token()))
    jwks_server.fail = True
    clock.now += 61
    assert await authenticator.authenticate(bearer_header(make_token())) is not None


async def test_a_rotated_key_is_fetched_on_first_sight(
    authenticator, jwks_server, make_token, ring, clock
) -> None:
    await authenticator.authenticate(bearer_header(make_token()))
    ring.rotate()
    claims = await authenticator.authenticate(bearer_header(make_token()))
    assert claims is not None
    assert jwks_server.requests == 2


async def test_unknown_kids_refetch_at_most_once_per_interval(
    authenticator, jwks_server, make_token, clock
) -> None:
    from shared.keys import generate_key

    await authenticator.authenticate(bearer_header(make_token()))
    stranger = generate_key()
    for _ in range(20):
        with pytest.raises(AuthenticationFailed):
            await authenticator.authenticate(bearer_header(make_token(key=stranger)))
    assert jwks_server.requests == 2  # the first unknown kid refetched, the others waited
    clock.now += 11
    with pytest.raises(AuthenticationFailed):
        await authenticator.authenticate(bearer_header(make_token(key=stranger)))
    assert jwks_server.requests == 3


async def test_old_token_stays_valid_while_its_key_is_published(
    authenticator, make_token, ring
) -> None:
    old_key = ring.signing_key
    old_token = make_token()
    ring.rotate()
    assert ring.signing_key.kid != old_key.kid
    assert await authenticator.authenticate(bearer_header(old_token)) is not None
    assert await authenticator.authenticate(bearer_header(make_token())) is not None


async def test_token_of_a_retired_key_is_refused_after_refresh(
    authenticator, make_token, ring, clock
) -> None:
    old_token = make_token()
    ring.rotate()
    assert await authenticator.authenticate(bearer_header(old_token)) is not None
    ring.retire(ring.keys[0].kid)
    clock.now += 61  # the next poll sees the retirement
    with pytest.raises(AuthenticationFailed) as caught:
        await authenticator.authenticate(bearer_header(old_token))
    assert caught.value.reason == "no published key has this kid"


async def test_keys_for_other_algorithms_are_ignored(
    authenticator, jwks_server, make_token
) -> None:
    jwks_server.extra_keys.append({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"})
    assert await authenticator.authenticate(bearer_header(make_token())) is not None
    assert "hmac" not in authenticator.jwks._state[authenticator.config.jwks[0].url].keys
