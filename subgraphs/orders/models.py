"""The orders database: orders, their priced lines, tracker stages and handled events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db import UTCDateTime
from shared.outbox import outbox_table


class Base(DeclarativeBase):
    """Own registry and metadata: the tables of the orders database only (never shared)."""


class Order(Base):
    """A placed order: a snapshot of what was priced, where it goes and where it stands."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("customer_id", "idempotency_key", name="uq_orders_customer_key"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    store_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(30), index=True)
    service_method: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(Integer)
    discounts: Mapped[int] = mapped_column(Integer)
    delivery_fee: Mapped[int] = mapped_column(Integer)
    surcharge: Mapped[int] = mapped_column(Integer)
    tax: Mapped[int] = mapped_column(Integer)
    tip: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    tax_rate_basis_points: Mapped[int] = mapped_column(Integer)
    coupon_code: Mapped[str | None] = mapped_column(String(60))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    address_city: Mapped[str | None] = mapped_column(String(100))
    address_postcode: Mapped[str | None] = mapped_column(String(20))
    address_lat: Mapped[float | None] = mapped_column(Float)
    address_lng: Mapped[float | None] = mapped_column(Float)
    address_instructions: Mapped[str | None] = mapped_column(Text)
    payment_method: Mapped[str] = mapped_column(String(20))
    # The gateway token is handed to payments in OrderPlaced; it is single-use.
    payment_token: Mapped[str | None] = mapped_column(String(200))
    payment_id: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order",
        order_by="OrderLine.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )
    stages: Mapped[list[OrderStage]] = relationship(
        back_populates="order",
        order_by="OrderStage.seq",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class OrderLine(Base):
    """One priced line, frozen at placement (menu changes later do not alter it)."""

    __tablename__ = "order_lines"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(String(64))
    variant_id: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(200))
    variant_name: Mapped[str] = mapped_column(String(200))
    category_code: Mapped[str] = mapped_column(String(60))
    size: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    line_total: Mapped[int] = mapped_column(Integer)
    customization: Mapped[dict[str, Any]] = mapped_column(JSON)

    order: Mapped[Order] = relationship(back_populates="lines")


class OrderStage(Base):
    """One tracker stage reached: when and by whom."""

    __tablename__ = "order_stages"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))

    order: Mapped[Order] = relationship(back_populates="stages")


class OrderNumberCounter(Base):
    """The last order number handed out per store per (store-local) day."""

    __tablename__ = "order_number_counters"

    store_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class HandledEvent(Base):
    """An event this subgraph has handled already (consumers are idempotent by event id)."""

    __tablename__ = "handled_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(60))
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime())


outbox = outbox_table(Base.metadata)
"""Events staged with the change that caused them, until the relay published them."""
