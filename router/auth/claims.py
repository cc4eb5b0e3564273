"""The signed claims header: how the router tells subgraphs who is calling.

In: the claims of an access token the router has verified, the shared secret
(``PIZZA_ROUTER_CLAIMS_SECRET``). Out: the value of ``x-pizza-claims``:
``v1.<base64url(JSON)>.<base64url(HMAC-SHA256)>``, the JSON holding the claims
and a short expiry. Subgraphs trust identity only from this header and only
when its signature verifies (``shared.auth.principal_from_claims_header``);
a client sending its own ``x-pizza-claims`` has it dropped by the router.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

import orjson

CLAIMS_HEADER = "x-pizza-claims"
VERSION = "v1"
DEV_CLAIMS_SECRET = "dev-only-router-claims-secret-change-me-0123456789"
"""Used when ``PIZZA_ROUTER_CLAIMS_SECRET`` is unset (embedded mode); equal to the subgraphs'."""
DEFAULT_TTL_SECONDS = 60
"""Long enough for one request and the subgraph-to-subgraph calls it causes."""

# Only these verified claims travel: enough for roles, scopes and object-level checks.
FORWARDED_CLAIMS = ("sub", "roles", "scope", "scopes", "store", "iss", "jti", "exp")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign_claims(
    claims: Mapping[str, Any],
    *,
    secret: str,
    ttl_seconds: int = DEFAULT_TTL_SECONDS,
    now: float | None = None,
) -> str:
    """The ``x-pizza-claims`` value for ``claims``, valid ``ttl_seconds`` from ``now``."""
    issued = int(time.time() if now is None else now)
    payload = {
        "claims": {k: claims[k] for k in FORWARDED_CLAIMS if k in claims},
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    body = f"{VERSION}.{_b64(orjson.dumps(payload))}"
    mac = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"
