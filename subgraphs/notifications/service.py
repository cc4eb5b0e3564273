"""Notifications' rules: what each event says, to whom, on which channels, once.

Plain functions with keyword-only arguments; no GraphQL here.

:func:`notify` turns one event into at most one notification per enabled channel
of its recipient. Each (event id, channel, user) row is claimed in its own
transaction before anything is sent; the unique constraint refuses a second
claim, so a redelivered event sends nothing again. Sending, retrying and taking
over what a dead process left unsent live in :mod:`subgraphs.notifications.sending`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.bus import Event
from shared.db import Database, utcnow
from shared.errors import DomainError, NotFound
from shared.ids import new_id
from subgraphs.notifications import sending
from subgraphs.notifications.channels import EMAIL, IN_APP, PUSH, SMS, Channel, Message, Recipient
from subgraphs.notifications.models import Contact, Notification, OrderContact, Preference

CHANNELS = (IN_APP, EMAIL, SMS, PUSH)
DEFAULT_PREFERENCES = {IN_APP: True, EMAIL: True, SMS: False, PUSH: True}
"""Channels a user gets until they say otherwise (SMS costs money: opt-in)."""
CONSUMED_EVENTS = (
    "UserRegistered",
    "OrderPlaced",
    "OrderStatusChanged",
    "DriverAssigned",
    "PaymentDeclined",
    "PaymentRefunded",
    "ReviewPosted",
)

STAGE_MESSAGES = {
    "CONFIRMED": ("is confirmed", "Payment is authorised; the store has your order."),
    "PREP": ("is on the make line", "Our team is making your order now."),
    "BAKE": ("is in the oven", "Your pizza is baking."),
    "QUALITY_CHECK": ("passed quality check", "Your order is boxed and checked."),
    "OUT_FOR_DELIVERY": ("is on its way", "Your driver has left the store."),
    "DELIVERED": ("was delivered", "Enjoy your meal! Tell us how it was with a review."),
    "READY_FOR_PICKUP": ("is ready for pickup", "Come and get it while it is hot."),
    "PICKED_UP": ("was picked up", "Enjoy your meal!"),
    "CANCELLED": ("was cancelled", "Any payment taken will be refunded."),
    "REFUNDED": ("was refunded", "The refund is on its way to your payment method."),
}
"""Tracker stage -> (title ending, body). PLACED is announced by OrderPlaced."""


class RecipientUnknown(Exception):
    """An event names an order we have not heard of yet; the bus retries later."""


def _order_label(number: str | None) -> str:
    return f"Order #{number}" if number else "Your order"


def compose_message(
    event_type: str, payload: Mapping[str, Any], *, order_number: str | None = None
) -> Message | None:
    """What a notification about this event says; None when it says nothing."""
    label = _order_label(payload.get("number") or order_number)
    if event_type == "UserRegistered":
        name = (payload.get("name") or "").split(" ")[0] or "there"
        return Message(f"Welcome, {name}!", "Your account is ready. Hungry yet?")
    if event_type == "OrderPlaced":
        return Message(f"{label} is placed", "We have your order and will tell you at every stage.")
    if event_type == "OrderStatusChanged":
        stage = payload.get("to")
        if stage not in STAGE_MESSAGES:
            return None
        ending, body = STAGE_MESSAGES[stage]
        return Message(f"{label} {ending}", body)
    if event_type == "DriverAssigned":
        return Message(f"{label} has a driver", "Follow your driver live in the tracker.")
    if event_type == "PaymentDeclined":
        reason = payload.get("reason") or "the payment was declined"
        return Message(
            f"Payment problem: {label}",
            f"We could not take the payment: {reason}. The order was not sent to the kitchen.",
        )
    if event_type == "PaymentRefunded":
        return Message(f"{label} was refunded", "The refund is on its way to your payment method.")
    if event_type == "ReviewPosted":
        return Message("Thanks for your review", "It will appear once our team has checked it.")
    return None


async def _learn(session: AsyncSession, event: Event) -> None:
    """Keep what later events need: contacts from UserRegistered, customers of orders."""
    payload = event.payload
    if event.type == "UserRegistered":
        contact = await session.get(Contact, payload["userId"])
        if contact is None:
            contact = Contact(user_id=payload["userId"])
            session.add(contact)
        contact.email, contact.name = payload.get("email"), payload.get("name")
    elif payload.get("orderId") and payload.get("customerId"):
        order = await session.get(OrderContact, payload["orderId"])
        if order is None:
            order = OrderContact(order_id=payload["orderId"], customer_id=payload["customerId"])
            session.add(order)
        order.number = payload.get("number") or order.number
    await session.flush()


async def _recipient_id(session: AsyncSession, event: Event) -> tuple[str, str | None]:
    """The user an event concerns and the order number, if any."""
    payload = event.payload
    if event.type == "UserRegistered":
        return payload["userId"], None
    order = await session.get(OrderContact, payload["orderId"]) if payload.get("orderId") else None
    user_id = payload.get("customerId") or (order.customer_id if order else None)
    if user_id is None:
        raise RecipientUnknown(f"no customer known for order {payload.get('orderId')!r} yet")
    return user_id, order.number if order else None


async def preferences(*, session: AsyncSession, user_id: str) -> dict[str, bool]:
    """Every channel with whether the user wants it (defaults filled in)."""
    chosen = await session.scalars(select(Preference).where(Preference.user_id == user_id))
    return {**DEFAULT_PREFERENCES, **{p.channel: p.enabled for p in chosen}}


async def _claim(db: Database, notification: Notification) -> bool:
    """Store the notification; False when this (event, channel, user) exists already."""
    async with db.session() as session:
        session.add(notification)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return False
    return True


async def notify(
    *,
    db: Database,
    event: Event,
    channels: Mapping[str, Channel],
    max_attempts: int = sending.MAX_ATTEMPTS,
) -> list[Notification]:
    """Notify the event's recipient once per enabled channel; returns what was new.

    Raises :class:`RecipientUnknown` when an order event arrives before the order is
    known (the bus retries). Each row is recorded with its first attempt claimed; a
    failed send stays PENDING for the sweeper to retry, FAILED after ``max_attempts``.
    """
    async with db.session() as session:
        try:
            await _learn(session, event)
            await session.commit()
        except IntegrityError:  # a concurrent redelivery learned the same row first
            await session.rollback()
    async with db.session() as session:
        user_id, order_number = await _recipient_id(session, event)
        message = compose_message(event.type, event.payload, order_number=order_number)
        wanted = await preferences(session=session, user_id=user_id)
        contact = await session.get(Contact, user_id)
        await session.commit()
    if message is None:
        return []
    recipient = Recipient(
        user_id=user_id,
        email=contact.email if contact else None,
        name=contact.name if contact else None,
    )
    claimed: list[tuple[Notification, Channel]] = []
    for name in CHANNELS:
        channel = channels.get(name)
        if not wanted.get(name) or channel is None or not channel.can_reach(recipient):
            continue
        now = utcnow()
        row = Notification(
            id=new_id("ntf"),
            user_id=user_id,
            event_id=event.id,
            event_type=event.type,
            channel=name,
            title=message.title,
            body=message.body,
            order_id=event.payload.get("orderId"),
            status=sending.SENT if name == IN_APP else sending.PENDING,
            attempts=1,
            claimed_at=now,
            created_at=now,
        )
        if await _claim(db, row):
            claimed.append((row, channel))
    for row, channel in claimed:
        if row.channel != IN_APP:  # the stored row is the in-app message
            await sending.send_claimed(
                db=db,
                notification=row,
                channel=channel,
                recipient=recipient,
                max_attempts=max_attempts,
            )
    return [row for row, _ in claimed]


async def set_preferences(
    *, session: AsyncSession, principal: Principal, changes: Iterable[tuple[str, bool]]
) -> dict[str, bool]:
    """Turn channels on or off for the caller; returns every channel's setting."""
    for index, (channel, enabled) in enumerate(changes):
        if channel not in CHANNELS:
            raise DomainError(
                f"Unknown channel {channel!r}.",
                code="INVALID_CHANNEL",
                field=f"preferences[{index}].channel",
            )
        row = await session.get(Preference, (principal.user_id, channel))
        if row is None:
            session.add(Preference(user_id=principal.user_id, channel=channel, enabled=enabled))
        else:
            row.enabled = enabled
    await session.flush()
    return await preferences(session=session, user_id=principal.user_id)


async def mark_read(
    *, session: AsyncSession, principal: Principal, notification_id: str
) -> Notification:
    """The caller read one of their in-app notifications (the first read time is kept)."""
    row = await session.get(Notification, notification_id)
    if row is None or row.user_id != principal.user_id or row.channel != IN_APP:
        # Same answer for someone else's notification: no way to probe ids.
        raise NotFound(f"No notification of yours has id {notification_id!r}.")
    row.read_at = row.read_at or utcnow()
    return row


async def list_in_app(
    *, session: AsyncSession, user_id: str, offset: int, limit: int, unread_only: bool
) -> tuple[list[Notification], int, int]:
    """A page of a user's in-app notifications, newest first; total and unread counts."""
    where = [Notification.user_id == user_id, Notification.channel == IN_APP]
    unread = [*where, Notification.read_at.is_(None)]
    selected = unread if unread_only else where
    rows = await session.scalars(
        select(Notification)
        .where(*selected)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .offset(offset)
        .limit(limit)
    )
    total = await session.scalar(select(func.count(Notification.id)).where(*selected))
    unread_count = await session.scalar(select(func.count(Notification.id)).where(*unread))
    return list(rows), int(total or 0), int(unread_count or 0)
