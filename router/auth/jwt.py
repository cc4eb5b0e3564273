"""JWT authentication of the router's callers.

In: the client's request headers. Out: the verified claims of the access token, ``None``
for an anonymous request (no token), or ``AuthenticationFailed`` (HTTP 401,
``extensions.code = UNAUTHENTICATED``, as Apollo Router answers) for a token that is
malformed, forged, expired, not yet valid, from another issuer or for another audience.

Refused before any key is looked up: ``alg: none`` and every algorithm the JWKS is not
configured for — in particular HS256 "signed" with a published public key (algorithm
confusion). The key is chosen by the token's ``kid`` from the JWKS and must itself be for
the token's algorithm. Logs name the reason, never the token.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import jwt
from jwt.exceptions import PyJWTError

from router import errors
from router.auth.config import ASYMMETRIC_ALGORITHMS, JwtConfig
from router.auth.jwks import JwksCache

logger = logging.getLogger("router.auth")

UNAUTHENTICATED = "UNAUTHENTICATED"
LEEWAY_SECONDS = 30
"""Clock skew tolerated between users and the router."""


class AuthenticationFailed(errors.RequestError):
    """The request carried a token the router does not accept (401 UNAUTHENTICATED)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            "The access token is not valid.",
            code=UNAUTHENTICATED,
            status=401,
            errors=[errors.graphql_error("The access token is not valid.", code=UNAUTHENTICATED)],
        )
        self.reason = reason
        self.headers = {"www-authenticate": 'Bearer error="invalid_token"'}
        """Why, for logs (never includes the token)."""


class JwtAuthenticator:
    """Verifies ``Authorization: Bearer <jwt>`` against the configured JWKS."""

    def __init__(self, config: JwtConfig, *, jwks: JwksCache | None = None) -> None:
        self.config = config
        self.jwks = jwks or JwksCache(config.jwks)

    def token_from(self, headers: Mapping[str, str]) -> str | None:
        """The token of the configured header; ``None`` when the header is absent."""
        value = headers.get(self.config.header_name)
        if value is None:
            return None
        prefix = self.config.header_value_prefix
        if prefix:
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() != prefix.lower() or not token.strip():
                raise self._refuse("the header is not '<prefix> <token>'")
            return token.strip()
        return value.strip()

    async def authenticate(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """The verified claims, ``None`` when anonymous; raises ``AuthenticationFailed``."""
        token = self.token_from(headers)
        if token is None:
            return None
        try:
            header = jwt.get_unverified_header(token)
        except PyJWTError:
            raise self._refuse("malformed token") from None
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ASYMMETRIC_ALGORITHMS:
            raise self._refuse(f"algorithm {str(algorithm)[:16]!r} is not accepted")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise self._refuse("malformed kid")
        found = await self.jwks.key_for(kid)
        if found is None:
            raise self._refuse("no published key has this kid")
        key, source = found
        if algorithm not in source.algorithms or key.algorithm_name != algorithm:
            raise self._refuse(f"algorithm {algorithm} does not match the key")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=list(source.audiences) or None,
                issuer=source.issuer,
                leeway=LEEWAY_SECONDS,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": bool(source.audiences),
                },
            )
        except jwt.ExpiredSignatureError:
            raise self._refuse("expired") from None
        except jwt.ImmatureSignatureError:
            raise self._refuse("not yet valid") from None
        except jwt.InvalidIssuerError:
            raise self._refuse("wrong issuer") from None
        except jwt.InvalidAudienceError:
            raise self._refuse("wrong audience") from None
        except PyJWTError as error:
            raise self._refuse(f"invalid ({type(error).__name__})") from None
        return claims

    @staticmethod
    def _refuse(reason: str) -> AuthenticationFailed:
        logger.info("request refused: access token %s", reason)
        return AuthenticationFailed(reason)
