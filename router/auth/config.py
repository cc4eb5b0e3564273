"""Authentication and authorization settings of the router.

In: the ``authentication`` and ``authorization`` sections of ``router.yaml``
(Apollo Router's names)::

    authentication:
      router:
        jwt:
          header_name: Authorization      # default
          header_value_prefix: Bearer     # default
          jwks:
            - url: http://users:4001/.well-known/jwks.json
              issuer: pizza-users
              audiences: [pizza-supergraph]
              algorithms: [ES256]
              poll_interval: 60s
    authorization:
      directives:
        enabled: true                     # @authenticated, @requiresScopes, @policy
      policies:
        hook: mypackage.policies:evaluate # ours: a PolicyHook (module:attribute)

and ``PIZZA_ROUTER_CLAIMS_SECRET`` from the environment. Out: frozen dataclasses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Never HS*: a JWKS publishes public keys, and HMAC "signed" with a public key is a forgery.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"}
)
DEFAULT_POLL_INTERVAL = 60.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")


def _seconds(value: str | float | int) -> float:
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"Invalid duration: {value!r} (use e.g. 60s, 500ms)")
    number, unit = float(match.group(1)), match.group(2) or "s"
    return number / 1000 if unit == "ms" else number * 60 if unit == "m" else number


@dataclass(frozen=True, slots=True)
class JwksSource:
    """One JWKS the router trusts, and what the tokens its keys sign must say."""

    url: str
    issuer: str | None = None
    audiences: tuple[str, ...] = ()
    algorithms: tuple[str, ...] = ("ES256",)
    poll_interval: float = DEFAULT_POLL_INTERVAL

    def __post_init__(self) -> None:
        refused = set(self.algorithms) - ASYMMETRIC_ALGORITHMS
        if refused or not self.algorithms:
            raise ValueError(
                f"JWKS {self.url}: algorithms must be asymmetric (got {sorted(refused) or 'none'})"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> JwksSource:
        """From one entry of ``authentication.router.jwt.jwks``."""
        audiences = data.get("audiences") or data.get("audience") or ()
        if isinstance(audiences, str):
            audiences = (audiences,)
        return cls(
            url=str(data["url"]),
            issuer=data.get("issuer"),
            audiences=tuple(str(a) for a in audiences),
            algorithms=tuple(str(a) for a in data.get("algorithms") or ("ES256",)),
            poll_interval=_seconds(data.get("poll_interval", DEFAULT_POLL_INTERVAL)),
        )


@dataclass(frozen=True, slots=True)
class JwtConfig:
    """``authentication.router.jwt``: where tokens come from and which JWKS verify them."""

    jwks: tuple[JwksSource, ...]
    header_name: str = "authorization"
    header_value_prefix: str = "Bearer"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> JwtConfig:
        """From ``authentication.router.jwt``."""
        return cls(
            jwks=tuple(JwksSource.from_mapping(s) for s in data.get("jwks") or ()),
            header_name=str(data.get("header_name") or "authorization").lower(),
            header_value_prefix=str(data.get("header_value_prefix", "Bearer")),
        )


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """What the router needs to authenticate callers and enforce the directives."""

    jwt: JwtConfig | None = None
    claims_secret: str | None = field(default=None, repr=False)
    """HMAC key of ``x-pizza-claims``; ``None`` until set from the environment."""
    directives: bool = True
    policy_hook: str | None = None
    """``module:attribute`` of a ``router.auth.policies.PolicyHook``."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> AuthConfig:
        """From the ``authentication`` and ``authorization`` sections of ``router.yaml``."""
        jwt = ((data.get("authentication") or {}).get("router") or {}).get("jwt")
        authorization = data.get("authorization") or {}
        directives = authorization.get("directives") or {}
        return cls(
            jwt=JwtConfig.from_mapping(jwt) if jwt else None,
            directives=bool(directives.get("enabled", True)),
            policy_hook=(authorization.get("policies") or {}).get("hook"),
        )
