"""The geo database: stores, their opening hours and holiday closures.

Money is stored as integer minor units in the store's currency. A delivery zone
is either a polygon (``zone_polygon``, JSON list of ``[lat, lng]``) or a circle
(``zone_radius_meters`` around the store); exactly one is set.
"""

from __future__ import annotations

import json
from datetime import date, time

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, Time
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from subgraphs.geo.geometry import Point


class Base(DeclarativeBase):
    """Own registry and metadata: the tables of the geo database only (never shared across subgraphs)."""


class Store(Base):
    """A pizza store: where it is, when it serves, where it delivers, what it charges."""

    __tablename__ = "stores"
    __table_args__ = (Index("ix_stores_lat_lng", "lat", "lng"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))
    line1: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(20))
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    time_zone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    minimum_delivery_order: Mapped[int] = mapped_column(Integer)
    delivery_fee: Mapped[int] = mapped_column(Integer)
    tax_rate_basis_points: Mapped[int] = mapped_column(Integer)
    zone_polygon: Mapped[str | None] = mapped_column(Text)
    zone_radius_meters: Mapped[int | None] = mapped_column(Integer)
    accepted_payment_methods: Mapped[str] = mapped_column(String(100))
    tipping_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    force_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_wait_min: Mapped[int] = mapped_column(Integer)
    delivery_wait_max: Mapped[int] = mapped_column(Integer)
    carryout_wait_min: Mapped[int] = mapped_column(Integer)
    carryout_wait_max: Mapped[int] = mapped_column(Integer)

    # Stores are few and always needed with their hours: load them eagerly (async-safe).
    hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="store",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by=lambda: [OpeningHours.service_method, OpeningHours.weekday, OpeningHours.opens],
    )
    holidays: Mapped[list[HolidayClosure]] = relationship(
        back_populates="store",
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="HolidayClosure.day",
    )

    @property
    def location(self) -> Point:
        """Where the store is."""
        return Point(self.lat, self.lng)

    @property
    def polygon(self) -> list[Point] | None:
        """The delivery zone's vertices, or None for a radius zone."""
        if not self.zone_polygon:
            return None
        return [Point(lat, lng) for lat, lng in json.loads(self.zone_polygon)]

    @polygon.setter
    def polygon(self, vertices: list[Point] | None) -> None:
        self.zone_polygon = (
            json.dumps([[p.lat, p.lng] for p in vertices]) if vertices is not None else None
        )

    @property
    def payment_methods(self) -> list[str]:
        """Accepted payment methods as a list."""
        return [m for m in self.accepted_payment_methods.split(",") if m]


class OpeningHours(Base):
    """One serving period: a service method on a weekday, from ``opens`` to ``closes``.

    Times are wall-clock in the store's time zone. ``closes <= opens`` means the
    period runs past midnight into the next day (10:30-01:00); equal means 24 hours.
    """

    __tablename__ = "opening_hours"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    service_method: Mapped[str] = mapped_column(String(20))
    weekday: Mapped[int] = mapped_column(Integer)
    """0 = Monday .. 6 = Sunday, as :meth:`datetime.date.weekday`."""
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)

    store: Mapped[Store] = relationship(back_populates="hours")

    @property
    def crosses_midnight(self) -> bool:
        """The period ends on the next day."""
        return self.closes <= self.opens


class HolidayClosure(Base):
    """A date on which the store does not open (periods starting that day are cancelled)."""

    __tablename__ = "holiday_closures"

    store_id: Mapped[str] = mapped_column(
        ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))

    store: Mapped[Store] = relationship(back_populates="holidays")
