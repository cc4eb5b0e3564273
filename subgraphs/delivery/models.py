"""The delivery database: drivers, deliveries, their trails and store locations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime
from shared.outbox import outbox_table


class Base(DeclarativeBase):
    """Own registry and metadata: the tables of the delivery database only (never shared across subgraphs)."""


class StoreLocation(Base):
    """Where a store is and how long its kitchen takes (seeded; geo owns the store itself)."""

    __tablename__ = "store_locations"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    prep_minutes: Mapped[int] = mapped_column(Integer, default=6)
    bake_minutes: Mapped[int] = mapped_column(Integer, default=7)


class Driver(Base):
    """A driver (id = their user id) and their latest position."""

    __tablename__ = "drivers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    store_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default="OFF_DUTY")
    vehicle: Mapped[str | None] = mapped_column(String(100))
    available_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)
    speed: Mapped[float | None] = mapped_column(Float)
    position_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Delivery(Base):
    """The delivery of one DELIVERY order, from placement to the door."""

    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    store_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    driver_id: Mapped[str | None] = mapped_column(ForeignKey("drivers.id"), index=True)
    dropoff_lat: Mapped[float] = mapped_column(Float)
    dropoff_lng: Mapped[float] = mapped_column(Float)
    eta_min_minutes: Mapped[int | None] = mapped_column(Integer)
    eta_max_minutes: Mapped[int | None] = mapped_column(Integer)
    eta_computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TrailPoint(Base):
    """One position a driver posted while carrying a delivery."""

    __tablename__ = "trail_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)
    speed: Mapped[float | None] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class HandledEvent(Base):
    """An event id already handled: consumers skip redeliveries."""

    __tablename__ = "handled_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(60))
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime())


outbox = outbox_table(Base.metadata)
"""Events staged with the change that caused them, until the relay published them."""
