"""The delivery app purges finished trails in the background (SQLite, and real PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from shared.db import Database, utcnow
from shared.settings import Settings
from shared.subgraph import SubgraphRuntime
from subgraphs import create_app
from subgraphs.delivery.app import TRAIL_PURGE_KEY
from subgraphs.delivery.models import Delivery, TrailPoint
from subgraphs.delivery.retention import TrailPurge

LAT, LNG = 30.2869, -97.7428


def finished(id: str, status: str, *, hours_ago: float | None = None) -> Delivery:
    at = utcnow() - timedelta(hours=hours_ago) if hours_ago is not None else None
    return Delivery(
        id=id,
        order_id=f"ord-{id}",
        customer_id="usr_c",
        store_id="sto_s",
        status=status,
        dropoff_lat=LAT,
        dropoff_lng=LNG,
        placed_at=utcnow() - timedelta(days=3),
        delivered_at=at if status == "DELIVERED" else None,
        cancelled_at=at if status == "CANCELLED" else None,
    )


async def add_trails(db: Database, deliveries: list[Delivery]) -> None:
    async with db.session() as session:
        session.add_all(deliveries)
        await session.flush()
        for item in deliveries:
            session.add(
                TrailPoint(delivery_id=item.id, lat=LAT, lng=LNG, at=utcnow() - timedelta(days=2))
            )
        await session.commit()


async def trail_owners(db: Database) -> set[str]:
    async with db.session() as session:
        rows = await session.execute(
            select(TrailPoint.delivery_id, func.count()).group_by(TrailPoint.delivery_id)
        )
        return {delivery_id for delivery_id, _ in rows}


async def test_the_running_app_schedules_the_trail_purge(start_subgraph) -> None:
    delivery = await start_subgraph("delivery")
    purge = delivery.runtime.extras[TRAIL_PURGE_KEY]
    assert purge.running
    assert (purge.interval, purge.retention) == (3600.0, timedelta(hours=24))


async def test_interval_and_retention_come_from_settings(
    start_subgraph, settings, monkeypatch
) -> None:
    monkeypatch.setenv("PIZZA_TRAIL_PURGE_INTERVAL_SECONDS", "120")
    settings.trail_retention_hours = 2
    delivery = await start_subgraph("delivery")
    purge = delivery.runtime.extras[TRAIL_PURGE_KEY]
    assert (purge.interval, purge.retention) == (120.0, timedelta(hours=2))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_settings(request: pytest.FixtureRequest, tmp_path) -> Settings:
    """Embedded settings (SQLite), or a fresh PostgreSQL database."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_settings")
    return Settings(data_dir=tmp_path)


async def test_the_scheduled_purge_deletes_only_trails_past_the_retention(
    database_settings: Settings, bus, monkeypatch
) -> None:
    monkeypatch.setenv("PIZZA_TRAIL_PURGE_INTERVAL_SECONDS", "0.05")
    runtime = SubgraphRuntime.create("delivery", settings=database_settings, bus=bus)
    async with LifespanManager(create_app("delivery", runtime)):
        await add_trails(
            runtime.db,
            [
                finished("delivered-old", "DELIVERED", hours_ago=25),
                finished("cancelled-old", "CANCELLED", hours_ago=25),
                finished("delivered-recent", "DELIVERED", hours_ago=1),
                finished("open", "PICKED_UP"),
            ],
        )
        async with asyncio.timeout(5):
            while len(await trail_owners(runtime.db)) > 2:
                await asyncio.sleep(0.05)
        assert await trail_owners(runtime.db) == {"delivered-recent", "open"}
    await bus.stop()


async def test_the_purge_stops_when_the_app_stops(settings, bus) -> None:
    runtime = SubgraphRuntime.create("delivery", settings=settings, bus=bus)
    async with LifespanManager(create_app("delivery", runtime)):
        purge = runtime.extras[TRAIL_PURGE_KEY]
        assert purge.running
    assert not purge.running
    assert TRAIL_PURGE_KEY not in runtime.extras
    await bus.stop()


async def test_a_failing_purge_is_tried_again_next_interval(tmp_path) -> None:
    # Never migrated: every purge fails on the missing table.
    broken = Database(url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", migrations_dir=tmp_path)
    purge = TrailPurge(db=broken, interval=0.01, retention=timedelta(hours=24))
    await purge.start()
    async with asyncio.timeout(5):
        while purge.runs < 3:
            await asyncio.sleep(0.01)
    assert purge.running
    await purge.stop()
    assert not purge.running
    await broken.dispose()
