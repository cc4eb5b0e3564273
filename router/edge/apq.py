"""Automatic persisted queries (Apollo's ``persistedQuery`` extension).

In: ``extensions.persistedQuery = {version: 1, sha256Hash}`` with or without ``query``.
Out: the query text. A hash alone looks the query up (``PERSISTED_QUERY_NOT_FOUND``, status
200, when unknown: the client then resends hash and query); a hash with a query registers it
after checking that the hash is the query's SHA-256 (``PERSISTED_QUERY_HASH_MISMATCH``, 400).
The cache is an in-memory LRU per process, backed by Redis when configured (every replica
then knows every registered query). Redis failures degrade to a miss, never to an error.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Protocol

from router.edge import errors as codes
from router.edge.config import ApqConfig, RedisConfig
from router.operation import LRUCache

logger = logging.getLogger("router.edge")


def sha256_hex(text: str) -> str:
    """The hex SHA-256 of ``text`` encoded as UTF-8 (APQ hashes and manifest ids)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class QueryStore(Protocol):
    """Where registered APQ queries live."""

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, query: str) -> None: ...

    async def close(self) -> None: ...


class RedisQueryStore:
    """APQ queries in Redis under ``{namespace}:apq:{hash}``."""

    def __init__(self, config: RedisConfig) -> None:
        import redis.asyncio as redis

        self.config = config
        self.client: Any = redis.Redis.from_url(config.url)

    def key(self, sha: str) -> str:
        """The Redis key of a hash."""
        return f"{self.config.namespace}:apq:{sha}"

    async def get(self, key: str) -> str | None:
        """The query or ``None`` (also when Redis is unreachable)."""
        try:
            value = await self.client.get(self.key(key))
        except Exception as error:  # a cache: failing open is the point
            logger.warning("APQ Redis lookup failed: %s", type(error).__name__)
            return None
        return value.decode("utf-8") if value is not None else None

    async def put(self, key: str, query: str) -> None:
        """Store the query (errors are logged)."""
        ttl = int(self.config.ttl) if self.config.ttl else None
        try:
            await self.client.set(self.key(key), query.encode("utf-8"), ex=ttl)
        except Exception as error:
            logger.warning("APQ Redis store failed: %s", type(error).__name__)

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()


class AutomaticPersistedQueries:
    """The APQ cache: memory first, then Redis when configured."""

    def __init__(self, config: ApqConfig) -> None:
        self.config = config
        self.memory: LRUCache[str, str] = LRUCache(config.in_memory_limit)
        self.redis: QueryStore | None = RedisQueryStore(config.redis) if config.redis else None

    async def lookup(self, sha: str) -> str:
        """The registered query for ``sha``; raises ``PERSISTED_QUERY_NOT_FOUND``."""
        query = self.memory.get(sha)
        if query is None and self.redis is not None:
            query = await self.redis.get(sha)
            if query is not None:
                self.memory.put(sha, query)
        if query is None:
            raise codes.edge_error(
                "PersistedQueryNotFound",
                code=codes.PERSISTED_QUERY_NOT_FOUND,
                status=200,
                headers=dict(codes.DONT_CACHE),
            )
        return query

    async def register(self, sha: str, query: str) -> None:
        """Store ``query`` under ``sha``; raises ``PERSISTED_QUERY_HASH_MISMATCH``."""
        if self.memory.get(sha) == query:
            return
        if sha256_hex(query) != sha.lower():
            raise codes.edge_error(
                "provided sha does not match query",
                code=codes.PERSISTED_QUERY_HASH_MISMATCH,
                headers=dict(codes.DONT_CACHE),
            )
        self.memory.put(sha, query)
        if self.redis is not None:
            await self.redis.put(sha, query)

    async def close(self) -> None:
        """Release the Redis connections."""
        if self.redis is not None:
            await self.redis.close()
