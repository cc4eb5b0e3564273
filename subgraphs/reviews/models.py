"""The reviews database: what it learned of orders, reviews and rating aggregates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime
from shared.outbox import outbox_table


class Base(DeclarativeBase):
    """Own registry and metadata: the tables of the reviews database only (never shared across subgraphs)."""


class OrderFact(Base):
    """What reviews learned about an order from events: who, which driver, received when."""

    __tablename__ = "order_facts"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    driver_id: Mapped[str | None] = mapped_column(String(64))
    product_ids: Mapped[str | None] = mapped_column(Text)
    """Comma-separated product ids when an event carried them; None when unknown."""
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Review(Base):
    """A customer's review of one order: its products and its driver."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("order_id", "customer_id", name="uq_review_order_customer"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    stars: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    driver_id: Mapped[str | None] = mapped_column(String(64), index=True)
    driver_stars: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="PENDING", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    moderated_by: Mapped[str | None] = mapped_column(String(64))
    moderation_note: Mapped[str | None] = mapped_column(Text)


class ReviewProduct(Base):
    """A product a review rates (with the review's stars)."""

    __tablename__ = "review_products"

    review_id: Mapped[str] = mapped_column(
        ForeignKey("reviews.id", ondelete="CASCADE"), primary_key=True
    )
    product_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class RatingAggregate(Base):
    """Count and sum of approved stars of one product or driver, kept incrementally."""

    __tablename__ = "rating_aggregates"

    subject_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    stars_sum: Mapped[int] = mapped_column(Integer, default=0)


class HandledEvent(Base):
    """An event id already handled: consumers skip redeliveries."""

    __tablename__ = "handled_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(60))
    handled_at: Mapped[datetime] = mapped_column(UTCDateTime())


outbox = outbox_table(Base.metadata)
"""Events staged with the change that caused them, until the relay published them."""
