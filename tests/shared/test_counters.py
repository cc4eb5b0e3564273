"""Human sequence numbers (order numbers, invoice numbers) never repeat under concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.db import Database
from subgraphs.orders.service import next_order_number

ORDERS_MIGRATIONS = Path(__file__).resolve().parents[2] / "subgraphs" / "orders" / "migrations"


async def _take_numbers(db: Database, count: int) -> list[str]:
    now = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)

    async def take() -> str:
        async with db.session() as session:
            number = await next_order_number(
                session=session, store_id="sto_1", now=now, time_zone="America/Chicago"
            )
            await asyncio.sleep(0.01)  # hold the transaction open while others try
            await session.commit()
            return number

    return list(await asyncio.gather(*(take() for _ in range(count))))


@pytest.mark.postgres
async def test_concurrent_first_orders_of_a_day_get_distinct_numbers_on_postgresql(pg_url) -> None:
    db = Database(url=pg_url, migrations_dir=ORDERS_MIGRATIONS)
    try:
        await db.migrate()
        numbers = await _take_numbers(db, 8)
    finally:
        await db.dispose()
    assert sorted(numbers) == [f"1125-{n:04d}" for n in range(1, 9)]


async def test_order_numbers_count_up_on_sqlite(tmp_path) -> None:
    db = Database(url=f"sqlite+aiosqlite:///{tmp_path}/orders.db", migrations_dir=ORDERS_MIGRATIONS)
    try:
        await db.migrate()
        first = await _take_numbers(db, 1)
        second = await _take_numbers(db, 1)
    finally:
        await db.dispose()
    assert first + second == ["1125-0001", "1125-0002"]
