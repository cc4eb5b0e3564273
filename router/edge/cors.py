"""CORS with Apollo Router's ``cors`` options, on Starlette's ``CORSMiddleware``.

In: ``cors: {origins, match_origins, allow_any_origin, allow_credentials, allow_headers,
expose_headers, methods, max_age}``. Out: the middleware for the app. As in Apollo Router an
empty ``allow_headers`` mirrors the headers a preflight asks for (so ``csrf.required_headers``
pass), the default origin is Apollo Studio, and same-origin requests (the GraphiQL explorer
the router serves) need no CORS at all.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from router.edge.config import CorsConfig

BROWSER_DEFAULT_MAX_AGE = 5
"""Seconds a preflight is cached when ``max_age`` is unset (what browsers assume)."""


def cors_middleware(config: CorsConfig) -> Middleware:
    """Starlette middleware enforcing ``config``."""
    return Middleware(
        CORSMiddleware,
        allow_origins=["*"] if config.allow_any_origin else list(config.origins),
        allow_origin_regex="|".join(f"(?:{p})" for p in config.match_origins) or None,
        allow_methods=list(config.methods),
        allow_headers=list(config.allow_headers) or ["*"],
        allow_credentials=config.allow_credentials,
        expose_headers=list(config.expose_headers),
        max_age=int(config.max_age) if config.max_age is not None else BROWSER_DEFAULT_MAX_AGE,
    )


def websocket_origin_allowed(config: CorsConfig, origin: str | None, host: str | None) -> bool:
    """Whether a WebSocket upgrade from ``origin`` may proceed.

    Browsers apply no CORS to WebSockets, so the router checks the ``Origin`` itself (against
    cross-site WebSocket hijacking): no ``Origin`` (not a browser), the router's own origin
    (the explorer it serves) and the origins CORS allows pass; any other is refused.
    """
    if not origin or config.allow_any_origin:
        return True
    if host and urlsplit(origin).netloc.lower() == host.lower():
        return True
    if origin in config.origins:
        return True
    return any(re.fullmatch(pattern, origin) for pattern in config.match_origins)
