"""The payments database: one payment per order, its refunds, invoices and handled events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime
from shared.outbox import outbox_table


class Base(DeclarativeBase):
    """Own registry and metadata: the tables of the payments database only (never shared)."""


class Payment(Base):
    """What an order costs and where its money stands at the gateway."""

    __tablename__ = "payments"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), unique=True)
    order_number: Mapped[str | None] = mapped_column(String(40))
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    store_id: Mapped[str] = mapped_column(String(64), index=True)
    method: Mapped[str] = mapped_column(String(20))
    token: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    refunded_amount: Mapped[int] = mapped_column(Integer, default=0)
    refund_count: Mapped[int] = mapped_column(Integer, default=0)
    gateway_reference: Mapped[str | None] = mapped_column(String(100))
    authorized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decline_code: Mapped[str | None] = mapped_column(String(60))
    decline_reason: Mapped[str | None] = mapped_column(Text)
    # What the invoice needs, copied from OrderPlaced / OrderModified: price and lines.
    order_data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Refund(Base):
    """One refund request carried out, remembered under its request key.

    The key makes a refund idempotent per request: asking again with a key this payment
    has seen answers with this row instead of paying back twice.
    """

    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("payment_id", "request_key", name="uq_refunds_payment_request"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payment_id: Mapped[str] = mapped_column(String(64), index=True)
    request_key: Mapped[str] = mapped_column(String(240))
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Invoice(Base):
    """The invoice of a captured payment (issued once, at capture)."""

    __tablename__ = "invoices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), unique=True)
    payment_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    subtotal: Mapped[int] = mapped_column(Integer)
    tax: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())


class InvoiceCounter(Base):
    """The last invoice number handed out per year."""

    __tablename__ = "invoice_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class HandledEvent(Base):
    """An event this subgraph has handled already (consumers are idempotent by event id)."""

    __tablename__ = "handled_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    type: Mapped[str] = mapped_column(String(60))
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime())


outbox = outbox_table(Base.metadata)
"""Events staged with the change that caused them, until the relay published them."""
