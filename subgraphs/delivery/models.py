"""The delivery database: drivers, deliveries, their trails and store locations."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    and_,
    delete,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.crypto import EncryptedFloat
from shared.db import UTCDateTime, utcnow
from shared.outbox import outbox_table
from shared.settings import get_settings

ACTIVE_DELIVERY_STATUSES = ("ASSIGNED", "PICKED_UP")
"""The statuses of a delivery its driver carries (given to them, not yet handed over)."""


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
    # What users says about the account (users' account events, ``driver_accounts.apply_account_change``):
    # only an active account with role DRIVER is dispatched or goes on duty; a store change
    # made while the driver carried orders waits in next_store_id until those are done;
    # account_changed_at is when the latest account event applied happened (older ones,
    # arriving late on another stream, are ignored).
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    next_store_id: Mapped[str | None] = mapped_column(String(64))
    account_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


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
    """One position a driver posted while carrying a delivery.

    The coordinates are encrypted at rest (ADR 0012) and the whole trail is purged once
    its delivery has been finished longer than the retention (:func:`purge_finished_trails`).
    """

    __tablename__ = "trail_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    lat: Mapped[float] = mapped_column(EncryptedFloat("trail_points.lat"))
    lng: Mapped[float] = mapped_column(EncryptedFloat("trail_points.lng"))
    heading: Mapped[float | None] = mapped_column(Float)
    speed: Mapped[float | None] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class HandledEvent(Base):
    """An event id already handled: consumers skip redeliveries."""

    __tablename__ = "handled_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(60))
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime())


async def purge_finished_trails(
    session: AsyncSession,
    *,
    retention: timedelta | None = None,
    now: datetime | None = None,
) -> int:
    """Delete the trails of deliveries DELIVERED or CANCELLED more than ``retention`` ago.

    ``retention`` defaults to ``PIZZA_TRAIL_RETENTION_HOURS`` (24 h).

    The rule (ADR 0012): a trail serves tracking while the delivery is open and support for a
    short while after; past that it is personal data with no purpose, so every point goes.
    Open deliveries keep theirs whatever their age. Returns the number of points deleted;
    committing is the caller's job. Run it periodically (e.g. hourly).
    """
    if retention is None:
        retention = timedelta(hours=get_settings().trail_retention_hours)
    cutoff = (now or utcnow()) - retention
    finished = select(Delivery.id).where(
        or_(
            and_(Delivery.status == "DELIVERED", Delivery.delivered_at < cutoff),
            and_(Delivery.status == "CANCELLED", Delivery.cancelled_at < cutoff),
        )
    )
    result = await session.execute(
        delete(TrailPoint)
        .where(TrailPoint.delivery_id.in_(finished))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


outbox = outbox_table(Base.metadata)
"""Events staged with the change that caused them, until the relay published them."""
