"""Paying money back: refunds idempotent per request, and what a cancellation does to money.

Enters: a captured payment, an amount (default: all that is left), a reason, who asks,
and a *request key* naming the request. Leaves: a :class:`RefundOutcome` with the
:class:`~subgraphs.payments.models.Refund` row and the ``PaymentRefunded`` announcement,
or nothing to announce when the request was carried out before (``replayed``).

Every refund request is remembered under its key (``refunds``, unique per payment), and
the gateway's idempotency key is derived from it, so a double-submitted or retried
request never pays back twice, at the gateway or in our books:

- a client-given ``idempotencyKey`` names the request (``client:<key>``);
- without one, the request is named by what it asks (``derived:<hash of amount, reason>``):
  the same amount for the same reason is the same request;
- the saga's refund of a cancelled order is ``cancellation`` (one per payment).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import utcnow
from shared.errors import Conflict, DomainError
from shared.ids import new_id
from subgraphs.payments.gateway import GatewayTimeout, PaymentGateway
from subgraphs.payments.models import Payment, Refund
from subgraphs.payments.service import (
    GATEWAY_METHODS,
    Announcement,
    GatewayUnavailable,
    announce,
    payment_for_order,
)

MAX_IDEMPOTENCY_KEY = 200
CANCELLATION_KEY = "cancellation"
"""The request key of the saga's refund of a cancelled order."""


@dataclass(frozen=True, slots=True)
class RefundOutcome:
    """A refund request carried out now, or earlier (``replayed``: nothing was paid now)."""

    refund: Refund
    announcement: Announcement | None
    replayed: bool


def request_key(*, idempotency_key: str | None, amount: int | None, reason: str | None) -> str:
    """The key naming a staff refund request: the client's key, else one derived from it."""
    if idempotency_key is not None:
        key = idempotency_key.strip()
        if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
            raise DomainError(
                f"The idempotency key must have 1..{MAX_IDEMPOTENCY_KEY} characters.",
                code="INVALID_IDEMPOTENCY_KEY",
                field="idempotencyKey",
            )
        return f"client:{key}"
    asked = "rest" if amount is None else str(amount)
    said = " ".join((reason or "").split()).lower()
    return f"derived:{_digest(f'{asked}|{said}')}"


def gateway_key(payment: Payment, key: str) -> str:
    """The gateway's idempotency key of a refund request (fixed length, whatever the key)."""
    return f"{payment.id}:refund:{_digest(key)}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def refund_announcement(
    payment: Payment, *, amount: int, actor: str, reason: str | None = None
) -> Announcement:
    """``PaymentRefunded``: this refund's ``amount``, where the payment stands, who did it.

    ``fullyRefunded`` and ``capturedAt`` let orders mark the order REFUNDED (a captured
    payment, paid back in full); ``refundedAt`` and ``actor`` go on its tracker.
    """
    extra: dict[str, Any] = {
        "refundedAmount": {"amount": payment.refunded_amount, "currency": payment.currency},
        "fullyRefunded": payment.status == "REFUNDED",
        "capturedAt": payment.captured_at.isoformat() if payment.captured_at else None,
        "refundedAt": payment.refunded_at.isoformat() if payment.refunded_at else None,
        "actor": actor,
        "reason": reason,
    }
    return announce("PaymentRefunded", payment, amount=amount, **extra)


async def _earlier(session: AsyncSession, payment: Payment, key: str) -> Refund | None:
    return await session.scalar(
        select(Refund).where(Refund.payment_id == payment.id, Refund.request_key == key)
    )


def _replay(refund: Refund, amount: int | None) -> RefundOutcome:
    if amount is not None and amount != refund.amount:
        raise Conflict(
            f"This idempotency key refunded {refund.amount} already; use a new key "
            "for another refund.",
            code="IDEMPOTENCY_KEY_REUSED",
            field="idempotencyKey",
        )
    return RefundOutcome(refund=refund, announcement=None, replayed=True)


def _check_amount(payment: Payment, amount: int | None) -> int:
    left = payment.amount - payment.refunded_amount
    if payment.status != "CAPTURED" or left <= 0:
        raise Conflict(
            f"A {payment.status} payment cannot be refunded.", code="INVALID_PAYMENT_STATE"
        )
    amount = left if amount is None else amount
    if not 0 < amount <= left:
        raise DomainError(
            f"The refund must be between 1 and {left} (minor units).",
            code="INVALID_AMOUNT",
            field="amount",
        )
    return amount


async def refund(
    *,
    session: AsyncSession,
    gateway: PaymentGateway,
    payment: Payment,
    key: str,
    actor: str,
    amount: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> RefundOutcome:
    """Pay back ``amount`` (default: all that is left) of a captured payment, once per ``key``.

    The payment row is locked (PostgreSQL) so that concurrent requests queue; a request
    whose key was seen answers with the earlier refund and pays nothing.
    """
    await session.refresh(payment, with_for_update=True)
    earlier = await _earlier(session, payment, key)
    if earlier is not None:
        return _replay(earlier, amount)
    amount = _check_amount(payment, amount)
    now = now or utcnow()
    reason = (reason or "").strip() or None
    row = Refund(
        id=new_id("rfd"),
        payment_id=payment.id,
        request_key=key,
        amount=amount,
        reason=reason,
        actor=actor,
        created_at=now,
    )
    session.add(row)
    try:
        await session.flush()  # a concurrent twin (SQLite: no row lock) loses here
    except IntegrityError:
        await session.rollback()
        await session.refresh(payment)
        earlier = await _earlier(session, payment, key)
        if earlier is None:
            raise
        return _replay(earlier, amount)
    if payment.method in GATEWAY_METHODS:
        try:
            result = await gateway.refund(
                reference=payment.gateway_reference or "",
                amount=amount,
                idempotency_key=gateway_key(payment, key),
            )
        except GatewayTimeout as exc:
            # Unknown outcome: nothing is recorded; the same request retried is safe.
            raise GatewayUnavailable(str(exc)) from exc
        row.amount = amount = result.amount
    payment.refund_count += 1
    payment.refunded_amount += amount
    payment.refunded_at = now
    payment.updated_at = now
    if payment.refunded_amount >= payment.amount:
        payment.status = "REFUNDED"
    announcement = refund_announcement(payment, amount=amount, actor=actor, reason=reason)
    return RefundOutcome(refund=row, announcement=announcement, replayed=False)


async def settle_cancellation(
    *,
    session: AsyncSession,
    gateway: PaymentGateway,
    order_id: str,
    customer_id: str,
    store_id: str,
    actor: str = "payments",
    now: datetime | None = None,
) -> Announcement | None:
    """The order was cancelled: void a hold, refund a capture, or remember it for later.

    ``actor`` (who cancelled) is named on the refund, and so on the order's REFUNDED stage.
    """
    now = now or utcnow()
    payment = await payment_for_order(session=session, order_id=order_id)
    if payment is None:
        # The cancellation overtook OrderPlaced: never authorize this order.
        session.add(
            Payment(
                id=new_id("pay"),
                order_id=order_id,
                customer_id=customer_id,
                store_id=store_id,
                method="CARD",
                status="VOIDED",
                amount=0,
                currency="USD",
                refunded_amount=0,
                refund_count=0,
                order_data={},
                voided_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        return None
    if payment.status in ("AUTHORIZED", "PENDING"):
        if payment.status == "AUTHORIZED" and payment.gateway_reference:
            await gateway.void(
                reference=payment.gateway_reference, idempotency_key=f"{payment.id}:void"
            )
        payment.status = "VOIDED"
        payment.voided_at = payment.updated_at = now
        return announce("PaymentVoided", payment)
    if payment.status == "CAPTURED":
        outcome = await refund(
            session=session,
            gateway=gateway,
            payment=payment,
            key=CANCELLATION_KEY,
            actor=actor,
            reason="The order was cancelled.",
            now=now,
        )
        return outcome.announcement
    return None
