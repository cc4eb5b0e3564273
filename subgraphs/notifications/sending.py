"""Sending recorded notifications, and taking over the ones a dead process left unsent.

Plain functions with keyword-only arguments; no GraphQL here.

A notification is recorded PENDING with its first attempt claimed (``attempts`` 1,
``claimed_at`` now) before anything is sent, then marked SENT, or, when the channel
raised, left PENDING for a retry until its last attempt, which marks it FAILED. A
process killed between recording and marking leaves a PENDING row whose claim grows
old: once it is older than the lease, :func:`claim_unsent` takes it (one claimant
only: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and on SQLite as well a conditional
``UPDATE`` that re-checks the lease, which SQLite's single writer makes atomic) and
:func:`resend_unsent` sends it again. Sending is therefore at least once per channel;
the row itself stays exactly one per event, channel and user, and every attempt
carries the notification id (email: a stable ``Message-ID``) so copies are
recognisable. The lease must outlast the slowest send (the SMTP timeout), or a slow
send is taken over while still running.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from shared.db import Database, utcnow
from subgraphs.notifications.channels import IN_APP, Channel, Message, Recipient
from subgraphs.notifications.models import Contact, Notification

PENDING, SENT, FAILED = "PENDING", "SENT", "FAILED"
MAX_ATTEMPTS = 5
"""Attempts at sending one notification before it is FAILED (default)."""


class RetrySettings(BaseSettings):
    """How unsent notifications are retried (``PIZZA_NOTIFICATIONS_*``)."""

    model_config = SettingsConfigDict(env_prefix="PIZZA_NOTIFICATIONS_", extra="ignore")

    sweep_interval_seconds: float = Field(default=15.0, gt=0)
    lease_seconds: float = Field(default=60.0, ge=0)
    """How long an attempt may run before another process may take it over."""
    max_attempts: int = Field(default=MAX_ATTEMPTS, ge=1)
    max_age_hours: float = Field(default=24.0, gt=0)
    """Older unsent notifications are stale news: FAILED, not sent."""
    batch_size: int = Field(default=50, ge=1)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    @property
    def max_age(self) -> timedelta:
        return timedelta(hours=self.max_age_hours)


def _unsent(
    channels: Iterable[str], *, lease_expired_before: datetime
) -> list[ColumnElement[bool]]:
    return [
        Notification.status == PENDING,
        Notification.channel.in_([c for c in channels if c != IN_APP]),
        or_(
            Notification.claimed_at.is_(None),
            Notification.claimed_at < lease_expired_before,
        ),
    ]


async def _record(
    db: Database, notification: Notification, *, status: str, error: str | None
) -> None:
    """Store an attempt's outcome; a failure only while this attempt still holds the claim."""
    where = [Notification.id == notification.id, Notification.status == PENDING]
    if status != SENT:  # a success is a fact; a failure is news only from the claimant
        where.append(Notification.attempts == notification.attempts)
    async with db.session() as session:
        result = await session.execute(
            update(Notification)
            .where(*where)
            .values(status=status, error=error)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    if result.rowcount:  # type: ignore[attr-defined]
        notification.status, notification.error = status, error


async def send_claimed(
    *,
    db: Database,
    notification: Notification,
    channel: Channel,
    recipient: Recipient,
    max_attempts: int,
) -> None:
    """Make the attempt this process claimed, and record SENT, PENDING (retry) or FAILED."""
    message = Message(title=notification.title, body=notification.body, key=notification.id)
    try:
        if not channel.can_reach(recipient):
            raise LookupError(f"{channel.name} cannot reach user {recipient.user_id}")
        await channel.send(recipient=recipient, message=message)
    except Exception as exc:  # a provider failing must not stop the other notifications
        last = notification.attempts >= max_attempts
        error = str(exc)[:500] or type(exc).__name__
        await _record(db, notification, status=FAILED if last else PENDING, error=error)
        return
    await _record(db, notification, status=SENT, error=None)


async def expire_unsent(
    *, db: Database, channels: Iterable[str], settings: RetrySettings, now: datetime
) -> int:
    """Mark FAILED the unclaimed unsent notifications older than ``max_age``; how many."""
    async with db.session() as session:
        result = await session.execute(
            update(Notification)
            .where(
                *_unsent(channels, lease_expired_before=now - settings.lease),
                Notification.created_at < now - settings.max_age,
            )
            .values(status=FAILED, error="expired before it could be sent")
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def claim_unsent(
    *,
    db: Database,
    channels: Iterable[str],
    lease: timedelta,
    limit: int,
    now: datetime | None = None,
) -> list[Notification]:
    """Claim the next attempt of up to ``limit`` PENDING notifications whose lease expired.

    Only ``channels`` this process can send on; oldest first. A row is claimed by one
    caller only, however many sweep at once: the candidates are locked and skipped by
    the others on PostgreSQL, and the claiming ``UPDATE`` repeats the lease test.
    """
    now = now or utcnow()
    channels = list(channels)
    unsent = _unsent(channels, lease_expired_before=now - lease)
    async with db.session() as session:
        candidates = list(
            await session.scalars(
                select(Notification.id)
                .where(*unsent)
                .order_by(Notification.created_at, Notification.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        claimed: list[str] = []
        if candidates:
            claimed = list(
                await session.scalars(
                    update(Notification)
                    .where(Notification.id.in_(candidates), *unsent)
                    .values(claimed_at=now, attempts=Notification.attempts + 1)
                    .returning(Notification.id)
                    .execution_options(synchronize_session=False)
                )
            )
        rows = await session.scalars(
            select(Notification)
            .where(Notification.id.in_(claimed))
            .order_by(Notification.created_at, Notification.id)
        )
        found = list(rows)
        await session.commit()
    return found


async def resend_unsent(
    *,
    db: Database,
    channels: Mapping[str, Channel],
    settings: RetrySettings,
    now: datetime | None = None,
) -> list[Notification]:
    """Expire stale unsent notifications, then claim and send one batch of the others.

    Returns the notifications attempted, with the status each ended in.
    """
    now = now or utcnow()
    await expire_unsent(db=db, channels=channels, settings=settings, now=now)
    claimed = await claim_unsent(
        db=db, channels=channels, lease=settings.lease, limit=settings.batch_size, now=now
    )
    if not claimed:
        return []
    async with db.session() as session:
        rows = await session.scalars(
            select(Contact).where(Contact.user_id.in_({n.user_id for n in claimed}))
        )
        contacts = {c.user_id: c for c in rows}
    for notification in claimed:
        contact = contacts.get(notification.user_id)
        recipient = Recipient(
            user_id=notification.user_id,
            email=contact.email if contact else None,
            name=contact.name if contact else None,
        )
        await send_claimed(
            db=db,
            notification=notification,
            channel=channels[notification.channel],
            recipient=recipient,
            max_attempts=settings.max_attempts,
        )
    return claimed
