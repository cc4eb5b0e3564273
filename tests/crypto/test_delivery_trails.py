"""Delivery: trail coordinates are ciphertext at rest and finished trails are purged."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from shared.db import Database, utcnow
from subgraphs.delivery.models import Delivery, TrailPoint, purge_finished_trails
from tests.crypto.conftest import ROOT, migrate

LAT, LNG = 51.523767, -0.1585557


def delivery_db(tmp_path: Path) -> Database:
    return Database(
        url=f"sqlite+aiosqlite:///{tmp_path / 'delivery.db'}",
        migrations_dir=ROOT / "subgraphs" / "delivery" / "migrations",
    )


def delivery(id: str, status: str, **times) -> Delivery:
    return Delivery(
        id=id,
        order_id=f"o-{id}",
        customer_id="c1",
        store_id="s1",
        status=status,
        dropoff_lat=LAT,
        dropoff_lng=LNG,
        placed_at=utcnow() - timedelta(days=3),
        **times,
    )


async def test_trail_coordinates_are_ciphertext_at_rest(tmp_path, keyring) -> None:
    db = delivery_db(tmp_path)
    await db.migrate()
    async with db.session() as session:
        session.add(delivery("d1", "PICKED_UP"))
        await session.flush()
        session.add(TrailPoint(delivery_id="d1", lat=LAT, lng=LNG, heading=90.0, at=utcnow()))
        await session.commit()
    async with db.engine.connect() as connection:
        lat, lng = (await connection.execute(text("SELECT lat, lng FROM trail_points"))).one()
    assert lat.startswith("v1:k1:") and lng.startswith("v1:k1:")
    assert str(LAT) not in lat and str(LNG) not in lng
    async with db.session() as session:
        point = (await session.scalars(select(TrailPoint))).one()
    assert (point.lat, point.lng) == (LAT, LNG)  # exact round trip
    await db.dispose()


async def test_migration_encrypts_existing_trails(tmp_path, keyring) -> None:
    path = tmp_path / "delivery.db"
    migrate(path, "delivery", "0002")
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO deliveries (id, order_id, customer_id, store_id, status, dropoff_lat,"
            " dropoff_lng, placed_at) VALUES ('d1', 'o1', 'c1', 's1', 'PICKED_UP', 1, 2,"
            " '2026-01-01')"
        )
        connection.execute(
            "INSERT INTO trail_points (delivery_id, lat, lng, at) VALUES ('d1', ?, ?,"
            " '2026-01-01')",
            (LAT, LNG),
        )
    migrate(path, "delivery", "head")
    with sqlite3.connect(path) as connection:
        lat, lng = connection.execute("SELECT lat, lng FROM trail_points").fetchone()
    assert lat.startswith("v1:k1:") and lng.startswith("v1:k1:")
    db = delivery_db(tmp_path)
    async with db.session() as session:
        point = (await session.scalars(select(TrailPoint))).one()
    assert (point.lat, point.lng) == (LAT, LNG)
    await db.dispose()
    migrate(path, "delivery", "0002", down=True)
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT lat, lng FROM trail_points").fetchone() == (LAT, LNG)


async def test_trails_of_long_finished_deliveries_are_purged(tmp_path, keyring) -> None:
    db = delivery_db(tmp_path)
    await db.migrate()
    now = utcnow()
    old, recent = now - timedelta(hours=25), now - timedelta(hours=1)
    deliveries = [
        delivery("delivered-old", "DELIVERED", delivered_at=old),
        delivery("cancelled-old", "CANCELLED", cancelled_at=old),
        delivery("delivered-recent", "DELIVERED", delivered_at=recent),
        delivery("open", "PICKED_UP"),  # open deliveries keep their trail, however old
    ]
    async with db.session() as session:
        session.add_all(deliveries)
        await session.flush()
        for item in deliveries:
            for minutes in (1, 2):
                session.add(
                    TrailPoint(
                        delivery_id=item.id,
                        lat=LAT,
                        lng=LNG,
                        at=now - timedelta(days=2, minutes=minutes),
                    )
                )
        await session.commit()
    async with db.session() as session:
        assert await purge_finished_trails(session, retention=timedelta(hours=24), now=now) == 4
        await session.commit()
    async with db.session() as session:
        left = await session.execute(
            select(TrailPoint.delivery_id, func.count()).group_by(TrailPoint.delivery_id)
        )
        assert dict(left.all()) == {"delivered-recent": 2, "open": 2}
        assert await purge_finished_trails(session, now=now + timedelta(hours=24)) == 2
    await db.dispose()


def test_migrating_an_empty_database_loads_no_keys(tmp_path, monkeypatch) -> None:
    from shared.crypto import use_keyring
    from shared.settings import get_settings

    monkeypatch.setenv("PIZZA_DATA_DIR", str(tmp_path / "data"))
    previous = use_keyring(None)
    get_settings.cache_clear()
    try:
        migrate(tmp_path / "delivery.db", "delivery", "head")
        migrate(tmp_path / "users.db", "users", "head")
    finally:
        get_settings.cache_clear()
        use_keyring(previous)
    assert not (tmp_path / "data" / "keys").exists()  # shared.make_migration stays key-free
