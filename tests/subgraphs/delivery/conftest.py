"""Fixtures of the delivery tests: a namespace on the real Redis, a real PostgreSQL database.

``redis_settings`` and ``postgres_settings`` replace the default ``settings`` of a test module
(``tests/conftest.py``) by overriding ``settings`` with them; what they create under the test's
namespace or database is removed after the test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest

from shared.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/0"
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


def _unavailable(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} must be running in CI")
    pytest.skip(f"{what} is not running")


@pytest.fixture
async def redis_namespace() -> AsyncIterator[str]:
    """A key prefix of this test on the real Redis; its keys are deleted after."""
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (redis.RedisError, OSError):
        await client.aclose()
        _unavailable("Redis")
    namespace = f"pizza-test-delivery-{uuid.uuid4().hex[:10]}"
    try:
        yield namespace
    finally:
        keys = [k async for k in client.scan_iter(match=f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
def redis_settings(tmp_path, redis_namespace: str) -> Settings:
    """Distributed-mode Redis (live updates, position index) under the test's namespace."""
    return Settings(data_dir=tmp_path, redis_url=REDIS_URL, bus_namespace=redis_namespace)


POSTGRES_SUBGRAPHS = ("delivery", "users")
"""The subgraphs delivery's tests start; each gets its own PostgreSQL database."""


@pytest.fixture
async def postgres_settings(tmp_path) -> AsyncIterator[Settings]:
    """Settings whose delivery and users databases are fresh PostgreSQL ones, dropped after."""
    try:
        import asyncpg

        admin = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except Exception:
        _unavailable("PostgreSQL")
    prefix = f"pizza_t{uuid.uuid4().hex[:10]}"
    databases = [f"{prefix}_{name}" for name in POSTGRES_SUBGRAPHS]
    try:
        for database in databases:
            await admin.execute(f'CREATE DATABASE "{database}"')
        yield Settings(
            data_dir=tmp_path,
            database_url_template=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{prefix}_{{name}}",
        )
    finally:
        for database in databases:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
