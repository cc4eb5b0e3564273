"""Access tokens and the caller's identity.

Users issues short-lived ES256 access tokens signed by its key ring (``shared.keys``); the
router verifies them against users' JWKS and forwards the verified claims to subgraphs in
``x-pizza-claims``, signed with ``PIZZA_ROUTER_CLAIMS_SECRET`` (see ``router.auth.claims``).
Subgraphs build a :class:`Principal` from that header only, never from a client's token
(ADR 0007) — unless ``PIZZA_TRUST_JWT_FROM_JWKS_URL`` is set for a router that does not sign
the header (Apollo Router): then :func:`claims_header_for_request` also accepts
``Authorization: Bearer`` verified against that JWKS. Refresh tokens are opaque and stored by
users.

Scopes derive from roles (:data:`SCOPES_BY_ROLE`) and travel in the token's ``scope``
claim (space separated, as OAuth and Apollo Router's ``@requiresScopes`` read it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from shared.errors import Forbidden, Unauthenticated
from shared.keys import ALGORITHM, KeyRing, key_ring_for
from shared.settings import Settings

ISSUER = "pizza-users"
AUDIENCE = "pizza-supergraph"
CLAIMS_HEADER = "x-pizza-claims"
CLAIMS_HEADER_TTL_SECONDS = 60
_CLAIMS_VERSION = "v1"

ROLES = ("CUSTOMER", "DRIVER", "STAFF", "ADMIN", "PARTNER")

SCOPES_BY_ROLE: dict[str, tuple[str, ...]] = {
    "CUSTOMER": ("profile", "orders:place", "reviews:write"),
    "DRIVER": ("profile", "deliveries:drive"),
    "STAFF": ("profile", "orders:place", "store:manage"),
    "ADMIN": ("profile", "orders:place", "store:manage", "menu:write", "users:read", "admin"),
    "PARTNER": ("partner", "orders:place"),
}
"""What each role may do, as OAuth scopes (``@requiresScopes`` in the schemas names them)."""


def scopes_for_roles(roles: list[str] | tuple[str, ...]) -> list[str]:
    """The union of the roles' scopes, in a stable order."""
    return list(dict.fromkeys(s for role in roles for s in SCOPES_BY_ROLE.get(role, ())))


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the claims the router verified."""

    user_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    store_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    def has_role(self, *roles: str) -> bool:
        """True when the caller holds any of ``roles``."""
        return bool(self.roles.intersection(roles))

    @property
    def is_staff(self) -> bool:
        """Staff and admins run stores."""
        return self.has_role("STAFF", "ADMIN")


def access_token_claims(
    *, settings: Settings, user_id: str, roles: list[str], store_id: str | None = None
) -> dict[str, Any]:
    """The claims of a fresh access token for ``user_id``."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": user_id,
        "roles": list(roles),
        "scope": " ".join(scopes_for_roles(roles)),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + settings.access_token_ttl_seconds,
        "jti": secrets.token_urlsafe(12),
    }
    if store_id:
        claims["store"] = store_id
    return claims


def issue_access_token(
    *,
    settings: Settings,
    user_id: str,
    roles: list[str],
    store_id: str | None = None,
    keys: KeyRing | None = None,
) -> str:
    """An ES256 access token for ``user_id``, signed by the newest key (its ``kid`` in the header)."""
    ring = keys or key_ring_for(settings)
    key = ring.signing_key
    claims = access_token_claims(settings=settings, user_id=user_id, roles=roles, store_id=store_id)
    return jwt.encode(
        claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid, "typ": "at+jwt"}
    )


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_claims_header(
    claims: Mapping[str, Any], *, secret: str, ttl_seconds: int = CLAIMS_HEADER_TTL_SECONDS
) -> str:
    """An ``x-pizza-claims`` value as the router builds it (tests and tools use this)."""
    issued = int(time.time())
    payload = {"claims": dict(claims), "iat": issued, "exp": issued + ttl_seconds}
    body = f"{_CLAIMS_VERSION}.{_b64encode(json.dumps(payload).encode())}"
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64encode(mac)}"


def claims_from_header(value: str, *, secret: str) -> dict[str, Any]:
    """The claims of an ``x-pizza-claims`` value; UNAUTHENTICATED unless signed and fresh."""
    version, _, rest = value.partition(".")
    body_b64, _, mac_b64 = rest.partition(".")
    if version != _CLAIMS_VERSION or not body_b64 or not mac_b64:
        raise Unauthenticated("The caller's credentials are not valid.")
    expected = hmac.new(secret.encode(), f"{version}.{body_b64}".encode(), hashlib.sha256).digest()
    try:
        mac = _b64decode(mac_b64)
        if not hmac.compare_digest(mac, expected):
            raise Unauthenticated("The caller's credentials are not valid.")
        payload = json.loads(_b64decode(body_b64))
    except (binascii.Error, ValueError) as exc:
        raise Unauthenticated("The caller's credentials are not valid.") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("claims"), dict):
        raise Unauthenticated("The caller's credentials are not valid.")
    if not isinstance(payload.get("exp"), int) or payload["exp"] < time.time():
        raise Unauthenticated("The caller's credentials have expired.")
    return payload["claims"]


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The caller described by verified claims."""
    if not claims.get("sub"):
        raise Unauthenticated("The caller's credentials are not valid.")
    scope = claims.get("scope")
    return Principal(
        user_id=str(claims["sub"]),
        roles=frozenset(str(r) for r in claims.get("roles") or ()),
        store_id=claims.get("store"),
        scopes=frozenset(scope.split() if isinstance(scope, str) else ()),
    )


def principal_from_claims_header(value: str | None, *, settings: Settings) -> Principal | None:
    """The caller from the router's ``x-pizza-claims``; None when anonymous.

    Raises :class:`Unauthenticated` when the header is forged, tampered with or expired.
    """
    if not value:
        return None
    claims = claims_from_header(value, secret=settings.router_claims_secret)
    return principal_from_claims(claims)


_bearer_verifiers: dict[str, Any] = {}
"""The router's validators (``router.auth.jwt.JwtAuthenticator``) by JWKS URL, one per process."""


async def verified_bearer_claims(
    headers: Mapping[str, str], *, jwks_url: str
) -> dict[str, Any] | None:
    """The claims of ``Authorization: Bearer <access token>``, verified as the router does.

    ES256 only, against ``jwks_url`` (cached, refreshed, refetched for an unknown ``kid``),
    issuer ``pizza-users``, audience ``pizza-supergraph``, ``exp``/``nbf`` with 30 s leeway.
    None when there is no ``Authorization`` header; :class:`Unauthenticated` when the token is
    not valid (the reason is logged by the validator, never the token).
    """
    if not headers.get("authorization"):
        return None
    from router.auth.config import JwksSource, JwtConfig
    from router.auth.jwt import AuthenticationFailed, JwtAuthenticator

    verifier = _bearer_verifiers.get(jwks_url)
    if verifier is None:
        source = JwksSource(
            url=jwks_url, issuer=ISSUER, audiences=(AUDIENCE,), algorithms=(ALGORITHM,)
        )
        verifier = _bearer_verifiers[jwks_url] = JwtAuthenticator(JwtConfig(jwks=(source,)))
    try:
        return await verifier.authenticate(headers)
    except AuthenticationFailed as exc:
        raise Unauthenticated("The access token is not valid.") from exc


async def principal_from_request(
    headers: Mapping[str, str], *, settings: Settings
) -> Principal | None:
    """The caller of a REST route that clients reach without the router (invoice PDFs).

    The router's ``x-pizza-claims`` when present; otherwise ``Authorization: Bearer``
    verified as the router verifies it, against users' JWKS.
    """
    if headers.get(CLAIMS_HEADER):
        return principal_from_claims_header(headers[CLAIMS_HEADER], settings=settings)
    claims = await verified_bearer_claims(headers, jwks_url=settings.users_jwks_url())
    return principal_from_claims(claims) if claims is not None else None


REFUSED_CLAIMS_HEADER = f"{_CLAIMS_VERSION}.refused."
"""What :func:`claims_header_for_request` answers for a bearer token that fails verification:
a claims value no subgraph accepts, so the request fails with UNAUTHENTICATED wherever it
needs the caller — exactly as a forged ``x-pizza-claims`` does."""


async def claims_header_for_request(
    headers: Mapping[str, str], *, settings: Settings
) -> str | None:
    """The ``x-pizza-claims`` value a subgraph request is authenticated by; None: anonymous.

    The header the router (or a peer subgraph) sent, when present: verified later, lazily, by
    :func:`principal_from_claims_header`. Otherwise, and only when
    ``PIZZA_TRUST_JWT_FROM_JWKS_URL`` is set (a router that does not sign claims, such as
    Apollo Router, propagating the client's ``Authorization``), the bearer access token
    verified against that JWKS and turned into a claims header signed with this subgraph's
    ``PIZZA_ROUTER_CLAIMS_SECRET``: ``SubgraphContext.principal`` and service-to-service
    calls (which pass the header on) then work unchanged. A token that fails verification
    gives :data:`REFUSED_CLAIMS_HEADER`. With the option unset ``Authorization`` is ignored.
    """
    if headers.get(CLAIMS_HEADER):
        return headers[CLAIMS_HEADER]
    if not settings.trust_jwt_from_jwks_url:
        return None
    try:
        claims = await verified_bearer_claims(headers, jwks_url=settings.trust_jwt_from_jwks_url)
    except Unauthenticated:
        return REFUSED_CLAIMS_HEADER
    if claims is None:
        return None
    from router.auth.claims import sign_claims  # the router's own: same claims forwarded

    return sign_claims(claims, secret=settings.router_claims_secret)


def require_principal(principal: Principal | None) -> Principal:
    """The caller, or UNAUTHENTICATED when anonymous."""
    if principal is None:
        raise Unauthenticated()
    return principal


def require_role(principal: Principal | None, *roles: str) -> Principal:
    """The caller when they hold one of ``roles``; FORBIDDEN otherwise."""
    caller = require_principal(principal)
    if not caller.has_role(*roles):
        raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
    return caller
