"""The notifications database: notifications sent, preferences and known contacts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UTCDateTime


class Base(DeclarativeBase):
    """Own registry and metadata: the tables of the notifications database only (never shared across subgraphs)."""


class Notification(Base):
    """One notification of one user on one channel, caused by one event.

    The unique (event, channel, user) triple is what makes a redelivered event
    produce no second notification. ``attempts`` and ``claimed_at`` are the send lease:
    a PENDING row whose latest attempt started longer ago than the lease was left by a
    process that died (or a send that failed) and is taken over by the sweeper
    (``subgraphs.notifications.sending``).
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint(
            "event_id", "channel", "user_id", name="uq_notification_event_channel_user"
        ),
        Index("ix_notifications_unsent", "status", "claimed_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    order_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="PENDING")
    """PENDING until sent, then SENT, or FAILED after the last attempt (in-app: SENT when stored)."""
    error: Mapped[str | None] = mapped_column(Text)
    """Why the latest attempt failed, if it did."""
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Send attempts started so far (the first when the notification is recorded)."""
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the latest attempt started; None for rows recorded before leases existed."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Preference(Base):
    """Whether a user wants notifications on one channel (absent: the default)."""

    __tablename__ = "preferences"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)


class Contact(Base):
    """How to reach a user, learned from ``UserRegistered``."""

    __tablename__ = "contacts"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))


class OrderContact(Base):
    """Whose an order is, learned from order events (payment events carry no customer)."""

    __tablename__ = "order_contacts"

    order_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(40))
