"""The router's auth stage: authenticate the caller, then authorize the operation.

In: the client's headers and a validated operation. Out: the verified claims (or a 401
``UNAUTHENTICATED`` request error), the operation without unauthorized fields plus their
errors, and the headers forwarded to subgraphs: never the client's token nor a
client-supplied ``x-pizza-claims``; the router's own signed ``x-pizza-claims`` when the
caller is authenticated. Modules: ``config`` (router.yaml sections), ``jwks`` (key cache),
``jwt`` (token validation), ``claims`` (the signed header), ``directives``
(``@authenticated``/``@requiresScopes``/``@policy``), ``policies`` (the ``@policy`` hook).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from graphql import GraphQLSchema, parse

from router.auth.claims import CLAIMS_HEADER, sign_claims
from router.auth.config import AuthConfig
from router.auth.directives import AuthorizationRules, AuthorizedOperation, Authorizer
from router.auth.jwt import AuthenticationFailed, JwtAuthenticator
from router.auth.policies import PolicyHook, load_policy_hook
from router.operation import PreparedOperation

__all__ = [
    "CLAIMS_HEADER",
    "AuthConfig",
    "AuthenticationFailed",
    "AuthorizedOperation",
    "PolicyHook",
    "RouterAuth",
]

logger = logging.getLogger("router.auth")


class RouterAuth:
    """Authentication, authorization and claims forwarding for one gateway."""

    def __init__(
        self,
        *,
        config: AuthConfig,
        schema: GraphQLSchema,
        supergraph_sdl: str,
        policy_hook: PolicyHook | None = None,
        cache_size: int = 512,
    ) -> None:
        self.config = config
        self.authenticator = JwtAuthenticator(config.jwt) if config.jwt else None
        rules = (
            AuthorizationRules.from_supergraph(parse(supergraph_sdl, no_location=True))
            if config.directives and supergraph_sdl
            else AuthorizationRules()
        )
        self.authorizer = Authorizer(
            schema=schema,
            rules=rules,
            policy_hook=policy_hook or load_policy_hook(config.policy_hook),
            cache_size=cache_size,
        )
        if self.authenticator is not None and not config.claims_secret:
            raise ValueError(
                "JWT authentication is configured but PIZZA_ROUTER_CLAIMS_SECRET is not set"
            )

    async def authenticate(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """Verified claims; ``None`` when anonymous or when JWT authentication is off."""
        if self.authenticator is None:
            return None
        return await self.authenticator.authenticate(headers)

    async def authorize(
        self, key: Any, prepared: PreparedOperation, claims: Mapping[str, Any] | None
    ) -> AuthorizedOperation:
        """The operation without what the caller may not see (see ``router.auth.directives``)."""
        return await self.authorizer.authorize(key, prepared, claims)

    def forwarded_headers(
        self, headers: Mapping[str, str], claims: Mapping[str, Any] | None
    ) -> dict[str, str]:
        """The client's headers as subgraphs may see them, with the router's claims header."""
        forwarded = {k: v for k, v in headers.items() if k.lower() != CLAIMS_HEADER}
        if self.authenticator is not None:
            # The end-user token stays at the edge; subgraphs trust the signed claims only.
            forwarded.pop(self.authenticator.config.header_name, None)
            if claims is not None and self.config.claims_secret:
                forwarded[CLAIMS_HEADER] = sign_claims(claims, secret=self.config.claims_secret)
        return forwarded

    async def start(self) -> None:
        """Nothing to open: the JWKS client is created on first use."""

    async def stop(self) -> None:
        """Close the JWKS client."""
        if self.authenticator is not None:
            await self.authenticator.jwks.close()
