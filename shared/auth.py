"""Access tokens and the caller's identity.

Users issues short-lived signed access tokens; every subgraph verifies them from
the ``Authorization: Bearer`` header the router forwards and builds a
:class:`Principal`. Refresh tokens are opaque and stored by users.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jwt

from shared.errors import Forbidden, Unauthenticated
from shared.settings import Settings

ALGORITHM = "HS256"
ISSUER = "pizza-users"
AUDIENCE = "pizza-supergraph"

ROLES = ("CUSTOMER", "DRIVER", "STAFF", "ADMIN", "PARTNER")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the verified claims of an access token."""

    user_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    store_id: str | None = None

    def has_role(self, *roles: str) -> bool:
        """True when the caller holds any of ``roles``."""
        return bool(self.roles.intersection(roles))

    @property
    def is_staff(self) -> bool:
        """Staff and admins run stores."""
        return self.has_role("STAFF", "ADMIN")


def issue_access_token(
    *, settings: Settings, user_id: str, roles: list[str], store_id: str | None = None
) -> str:
    """A signed access token for ``user_id`` valid for the configured TTL."""
    now = int(time.time())
    claims = {
        "sub": user_id,
        "roles": roles,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + settings.access_token_ttl_seconds,
    }
    if store_id:
        claims["store"] = store_id
    return jwt.encode(claims, settings.auth_secret, algorithm=ALGORITHM)


def principal_from_header(authorization: str | None, *, settings: Settings) -> Principal | None:
    """The caller from an ``Authorization`` header; None when there is none.

    Raises :class:`Unauthenticated` for a token that is malformed, forged or expired.
    """
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("The Authorization header must be 'Bearer <access token>'.")
    try:
        claims = jwt.decode(
            token,
            settings.auth_secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iat"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The access token has expired: refresh it.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("The access token is not valid.") from exc
    return Principal(
        user_id=str(claims["sub"]),
        roles=frozenset(claims.get("roles") or ()),
        store_id=claims.get("store"),
    )


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
