"""Fixtures of the shared-library tests: a real PostgreSQL database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


async def _postgres_or_skip() -> None:
    try:
        import asyncpg

        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        await conn.close()
    except Exception:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL must be running in CI")
        pytest.skip("PostgreSQL is not running")


@pytest.fixture
async def pg_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh PostgreSQL database of this test, dropped after."""
    await _postgres_or_skip()
    import asyncpg

    name = f"pizza_outbox_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
