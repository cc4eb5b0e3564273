"""A cache of the JSON Web Key Sets the router trusts.

In: the configured ``JwksSource``s and an ``httpx.AsyncClient``. Out: the public key for a
token's ``kid`` (with the source that published it). Each set is fetched on first use and
again after its ``poll_interval``; an unknown ``kid`` triggers a refetch (a new key after a
rotation), at most once per ``min_refetch_interval`` so forged kids cannot make the router
hammer the JWKS. A failed fetch keeps the keys known so far, and is retried on the next
request no sooner than ``min_refetch_interval``.

``https://`` JWKS URLs are verified against ``tls`` when given (the router's
``tls.subgraph.all.certificate_authorities`` context, ADR 0011), the system's CAs otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import orjson
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from router.auth.config import JwksSource

logger = logging.getLogger("router.auth")

MIN_REFETCH_INTERVAL = 10.0


@dataclass(slots=True)
class _SourceState:
    keys: dict[str, PyJWK] = field(default_factory=dict)
    fetched_at: float | None = None
    """When the keys were last fetched successfully."""
    attempted_at: float | None = None
    """When the last fetch was tried (polls are retried no sooner than the refetch limit)."""
    forced_at: float | None = None
    """When an unknown kid last forced a fetch."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class JwksCache:
    """Public keys by ``kid`` from every configured JWKS, fetched lazily and refreshed."""

    def __init__(
        self,
        sources: tuple[JwksSource, ...],
        *,
        client: httpx.AsyncClient | None = None,
        min_refetch_interval: float = MIN_REFETCH_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.sources = sources
        self.client = client
        self.tls = tls
        """The context the cache's own client verifies ``https://`` JWKS with (None: the
        system's CAs); not used with an injected ``client``."""
        self._owns_client = False
        self.min_refetch_interval = min_refetch_interval
        self.clock = clock
        self._state = {source.url: _SourceState() for source in sources}
        self.fetches = 0
        """How many times a JWKS was requested (tests and metrics)."""

    async def trust(self, tls: ssl.SSLContext | None) -> None:
        """Verify ``https://`` JWKS against ``tls`` from now on (the cache's own client is
        closed and reopened with it; an injected client is kept as it is)."""
        self.tls = tls
        if self._owns_client and self.client is not None:
            await self.client.aclose()
            self.client = None

    async def key_for(self, kid: str | None) -> tuple[PyJWK, JwksSource] | None:
        """The key named ``kid`` and its source; ``None`` when no JWKS publishes it."""
        for source in self.sources:
            state = self._state[source.url]
            if state.fetched_at is None or self.clock() - state.fetched_at >= source.poll_interval:
                await self._refresh(source, state, forced=False)
            found = self._lookup(state, kid)
            if found is not None:
                return found, source
        # Unknown kid: perhaps a key published since the last fetch.
        for source in self.sources:
            state = self._state[source.url]
            if await self._refresh(source, state, forced=True):
                found = self._lookup(state, kid)
                if found is not None:
                    return found, source
        return None

    @staticmethod
    def _lookup(state: _SourceState, kid: str | None) -> PyJWK | None:
        if kid is None:
            # Without a kid only a single-key set is unambiguous.
            return next(iter(state.keys.values())) if len(state.keys) == 1 else None
        return state.keys.get(kid)

    async def _refresh(self, source: JwksSource, state: _SourceState, *, forced: bool) -> bool:
        """Fetch ``source`` again; False when rate-limited or when the fetch failed."""
        async with state.lock:
            now = self.clock()
            last = state.forced_at if forced else state.attempted_at
            if (
                not forced
                and state.fetched_at is not None
                and now - state.fetched_at < source.poll_interval
            ):
                return True  # another request refreshed it while this one waited for the lock
            if last is not None and now - last < self.min_refetch_interval:
                return False
            state.attempted_at = now
            if forced:
                state.forced_at = now
            try:
                state.keys = await self._fetch(source)
            except (httpx.HTTPError, ValueError) as error:
                logger.warning("JWKS %s could not be fetched: %s", source.url, type(error).__name__)
                return False
            state.fetched_at = now
            return True

    async def _fetch(self, source: JwksSource) -> dict[str, PyJWK]:
        if self.client is None:
            verify: ssl.SSLContext | bool = self.tls if self.tls is not None else True
            self.client = httpx.AsyncClient(timeout=5.0, verify=verify)
            self._owns_client = True
        self.fetches += 1
        response = await self.client.get(source.url, headers={"accept": "application/json"})
        response.raise_for_status()
        document = orjson.loads(response.content)
        keys: dict[str, PyJWK] = {}
        for entry in document.get("keys") or () if isinstance(document, dict) else ():
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            try:
                key = PyJWK(entry)
            except PyJWKError:
                continue  # a key type or curve we do not verify with
            if key.algorithm_name not in source.algorithms:
                continue
            keys[str(entry.get("kid") or "")] = key
        logger.info("JWKS %s: %d signing keys", source.url, len(keys))
        return keys

    async def close(self) -> None:
        """Close the HTTP client."""
        if self.client is not None:
            await self.client.aclose()
            self.client = None
            self._owns_client = False
