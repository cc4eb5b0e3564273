"""Rate limits: global, per client and per client IP, as token buckets.

In: ``traffic_shaping.router.{global_rate_limit, client_rate_limit, ip_rate_limit}`` (each
``{capacity, interval}``: ``capacity`` requests per ``interval``, refilled continuously) and
each request. Out: nothing, or ``REQUEST_RATE_LIMITED`` (429) with ``Retry-After`` in
seconds. A batch of N operations takes N tokens.

Buckets live in this process (embedded mode; each worker process has its own) or in Redis
(distributed mode: every replica shares them), updated by one atomic Lua script per check
that reads Redis's clock, so replicas' clocks do not matter. When Redis is unreachable the
check lets the request through and logs a warning: rate limiting must not take the API down.

Keys are pluggable: ``client_key(request)`` defaults to the verified token subject
(``request.state.claims["sub"]``, set by the authentication layer) and falls back to the
``apollographql-client-name`` header; requests with neither are only limited per IP and
globally. ``ip_key(request)`` is the TCP peer, or the address ``trusted_proxies`` hops from
the right of ``X-Forwarded-For`` behind proxies.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from router.edge import errors as codes
from router.edge.config import RateLimit, RateLimitConfig, RedisConfig
from router.edge.safelist import client_name, request_claims
from router.errors import RequestError
from router.operation import LRUCache

logger = logging.getLogger("router.edge")

KeyFunction = Callable[[Any], "str | None"]
MEMORY_BUCKETS = 100_000
"""Buckets kept per process (least recently used evicted: a forgotten bucket is full)."""

# KEYS[1]: bucket; ARGV: capacity, tokens per millisecond, cost. Returns {allowed, wait_ms}.
TOKEN_BUCKET_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = math.ceil((cost - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate) + 1000)
return {allowed, wait}
"""


def default_client_key(request: Any) -> str | None:
    """The verified subject, else the ``apollographql-client-name`` header."""
    claims = request_claims(request)
    if claims and claims.get("sub"):
        return f"sub:{claims['sub']}"
    name = client_name(request)
    return f"name:{name}" if name else None


def ip_key_function(trusted_proxies: int) -> KeyFunction:
    """The client IP: the TCP peer, or ``X-Forwarded-For`` behind ``trusted_proxies`` proxies."""

    def ip_key(request: Any) -> str | None:
        if trusted_proxies > 0:
            hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
            hops = [h for h in hops if h]
            if len(hops) >= trusted_proxies:
                return hops[-trusted_proxies]
        client = getattr(request, "client", None)
        return client.host if client else None

    return ip_key


class BucketStore(Protocol):
    """Takes tokens from named buckets."""

    async def take(self, key: str, limit: RateLimit, cost: int) -> float:
        """0 when allowed, else seconds until ``cost`` tokens are available."""
        ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class MemoryBucketStore:
    """Token buckets in this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.buckets: LRUCache[str, _Bucket] = LRUCache(MEMORY_BUCKETS)

    async def take(self, key: str, limit: RateLimit, cost: int) -> float:
        """0 when allowed, else seconds to wait."""
        now = self.clock()
        rate = limit.capacity / limit.interval
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = _Bucket(tokens=float(limit.capacity), updated=now)
            self.buckets.put(key, bucket)
        bucket.tokens = min(limit.capacity, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / rate

    async def close(self) -> None:
        """Nothing to release."""


class RedisBucketStore:
    """Token buckets in Redis, shared by every router replica."""

    def __init__(self, config: RedisConfig) -> None:
        import redis.asyncio as redis

        self.config = config
        self.client: Any = redis.Redis.from_url(config.url)
        self.script: Any = self.client.register_script(TOKEN_BUCKET_LUA)

    async def take(self, key: str, limit: RateLimit, cost: int) -> float:
        """0 when allowed (also when Redis fails), else seconds to wait."""
        rate_per_ms = limit.capacity / (limit.interval * 1000)
        try:
            allowed, wait_ms = await self.script(
                keys=[f"{self.config.namespace}:ratelimit:{key}"],
                args=[limit.capacity, repr(rate_per_ms), cost],
            )
        except Exception as error:
            logger.warning("rate limit check in Redis failed: %s", type(error).__name__)
            return 0.0
        return 0.0 if int(allowed) == 1 else max(int(wait_ms), 1) / 1000

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()


class RateLimiter:
    """Checks the configured limits for each request."""

    def __init__(
        self,
        config: RateLimitConfig,
        *,
        client_key: KeyFunction = default_client_key,
        ip_key: KeyFunction | None = None,
        store: BucketStore | None = None,
    ) -> None:
        self.config = config
        self.client_key = client_key
        self.ip_key = ip_key or ip_key_function(config.trusted_proxies)
        self.store: BucketStore = store or (
            RedisBucketStore(config.redis) if config.redis else MemoryBucketStore()
        )

    async def check(self, request: Any, cost: int = 1) -> None:
        """Take ``cost`` tokens from each bucket the request falls in; raise when one is empty."""
        limits: list[tuple[str, RateLimit]] = []
        if self.config.global_limit:
            limits.append(("global", self.config.global_limit))
        if self.config.client:
            key = self.client_key(request)
            if key:
                limits.append((f"client:{key}", self.config.client))
        if self.config.ip:
            key = self.ip_key(request)
            if key:
                limits.append((f"ip:{key}", self.config.ip))
        for key, limit in limits:
            wait = await self.store.take(key, limit, cost)
            if wait > 0:
                raise RequestError(
                    "Your request has been rate limited",
                    code=codes.REQUEST_RATE_LIMITED,
                    status=429,
                    headers={"retry-after": str(max(1, math.ceil(wait)))},
                )

    async def close(self) -> None:
        """Release the store."""
        await self.store.close()
