"""Payments' rules: the saga's side of an order (authorize, capture, void, refund) and invoices.

Plain async functions with keyword-only arguments over a SQLAlchemy session and a
:class:`~subgraphs.payments.gateway.PaymentGateway`; no GraphQL here. Every gateway
call carries an idempotency key derived from the payment (``<payment id>:capture``),
so a retried step repeats the first answer instead of charging twice. Functions
return :class:`Announcement` records; the caller commits, then publishes them.
Refunds and cancellations are in :mod:`subgraphs.payments.refunds`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, require_principal
from shared.db import take_next, utcnow
from shared.errors import Conflict, DomainError, Forbidden, NotFound
from shared.ids import new_id
from subgraphs.payments.gateway import GatewayResult, GatewayTimeout, PaymentGateway
from subgraphs.payments.models import HandledEvent, Invoice, InvoiceCounter, Payment

GATEWAY_METHODS = frozenset({"CARD", "GIFT_CARD"})


class GatewayUnavailable(DomainError):
    """The gateway did not answer a capture or refund; trying again is safe."""

    code = "GATEWAY_UNAVAILABLE"


@dataclass(frozen=True, slots=True)
class Announcement:
    """An event to publish once the transaction committed."""

    type: str
    payload: dict[str, Any]


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def announce(kind: str, payment: Payment, amount: int | None = None, **extra: Any) -> Announcement:
    """The contract's payload of a payment event (``amount`` defaults to the payment's)."""
    payload = {
        "orderId": payment.order_id,
        "paymentId": payment.id,
        "amount": _money(payment.amount if amount is None else amount, payment.currency),
        **extra,
    }
    return Announcement(type=kind, payload=payload)


# --- access -----------------------------------------------------------------------------


def is_store_staff(principal: Principal | None, store_id: str) -> bool:
    """Admins, and staff of ``store_id``, handle that store's payments."""
    if principal is None:
        return False
    if principal.has_role("ADMIN"):
        return True
    return principal.has_role("STAFF") and principal.store_id == store_id


def can_read_payment(principal: Principal | None, payment: Payment) -> bool:
    """The order's customer, staff of its store and admins."""
    return principal is not None and (
        principal.user_id == payment.customer_id or is_store_staff(principal, payment.store_id)
    )


async def payment_for_order(*, session: AsyncSession, order_id: str) -> Payment | None:
    """The payment of an order, if payments heard of it."""
    return await session.scalar(select(Payment).where(Payment.order_id == order_id))


async def stored_status(*, session: AsyncSession, payment_id: str) -> str | None:
    """The status as committed in the database (not as changed in this session)."""
    return await session.scalar(select(Payment.status).where(Payment.id == payment_id))


async def was_handled(*, session: AsyncSession, event_id: str) -> bool:
    """True when ``event_id`` was handled already."""
    return await session.get(HandledEvent, event_id) is not None


async def mark_handled(*, session: AsyncSession, event_id: str, event_type: str) -> bool:
    """Record ``event_id`` as handled; False when it was handled already."""
    if await session.get(HandledEvent, event_id) is not None:
        return False
    session.add(HandledEvent(event_id=event_id, type=event_type, handled_at=utcnow()))
    return True


# --- authorize (OrderPlaced) ------------------------------------------------------------


def gateway_metadata(payment: Payment) -> dict[str, str]:
    """Sent with every authorization: the gateway's webhooks find the payment by it."""
    return {"payment_id": payment.id, "order_id": payment.order_id}


def _order_data(payload: dict[str, Any]) -> dict[str, Any]:
    return {"price": payload.get("price") or {}, "lines": payload.get("lines") or []}


async def open_payment(
    *, session: AsyncSession, order_placed: dict[str, Any], now: datetime | None = None
) -> Payment | None:
    """Record the payment of a placed order; None when there is nothing (more) to authorize.

    A payment that exists already is not opened twice; one voided before the order
    news arrived (the order was cancelled first) only gets its amount filled in.
    """
    now = now or utcnow()
    method = order_placed["paymentMethod"]
    total = order_placed["total"]
    existing = await payment_for_order(session=session, order_id=order_placed["orderId"])
    if existing is not None:
        if existing.status == "VOIDED" and existing.amount == 0:
            existing.amount, existing.currency = total["amount"], total["currency"]
            existing.method, existing.order_number = method["type"], order_placed.get("number")
            existing.order_data = _order_data(order_placed)
            return None
        return existing if existing.status == "PENDING" and existing.method != "CASH" else None
    payment = Payment(
        id=new_id("pay"),
        order_id=order_placed["orderId"],
        order_number=order_placed.get("number"),
        customer_id=order_placed["customerId"],
        store_id=order_placed["storeId"],
        method=method["type"],
        token=method.get("token"),
        status="PENDING",
        amount=total["amount"],
        currency=total["currency"],
        refunded_amount=0,
        refund_count=0,
        order_data=_order_data(order_placed),
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    await session.flush()
    return payment


async def authorize(
    *, gateway: PaymentGateway, payment: Payment, now: datetime | None = None
) -> Announcement:
    """Ask the gateway to hold the amount (cash is collected later: nothing to hold).

    Declines and timeouts both end the saga's happy path: ``PaymentDeclined``.
    """
    now = now or utcnow()
    payment.updated_at = now
    if payment.method not in GATEWAY_METHODS:
        return announce("PaymentAuthorized", payment)
    try:
        result = await gateway.authorize(
            token=payment.token or "",
            amount=payment.amount,
            currency=payment.currency,
            idempotency_key=f"{payment.id}:authorize",
            metadata=gateway_metadata(payment),
        )
    except GatewayTimeout:
        payment.status = "FAILED"
        payment.decline_code = "gateway_timeout"
        payment.decline_reason = "The payment provider did not answer; nothing was charged."
        return announce(
            "PaymentDeclined", payment, reason=payment.decline_reason, code=payment.decline_code
        )
    if not result.approved:
        payment.status = "DECLINED"
        payment.decline_code = result.decline_code
        payment.decline_reason = result.decline_reason
        return announce(
            "PaymentDeclined", payment, reason=result.decline_reason, code=result.decline_code
        )
    payment.status = "AUTHORIZED"
    payment.gateway_reference = result.reference
    payment.authorized_at = now
    return announce("PaymentAuthorized", payment)


async def release_late_authorization(
    *, gateway: PaymentGateway, payment_id: str, reference: str | None
) -> None:
    """The order was cancelled while the gateway was authorizing: release the hold."""
    if reference:
        await gateway.void(reference=reference, idempotency_key=f"{payment_id}:void")


# --- capture and invoices ---------------------------------------------------------------


async def next_invoice_number(*, session: AsyncSession, now: datetime) -> str:
    """``INV-2026-000042``: a gapless sequence per (UTC) year.

    One atomic upsert takes the next number, so concurrent captures never share one; it
    is part of the capture's transaction, so a rolled-back capture leaves no gap.
    """
    last = await take_next(session, InvoiceCounter, {"year": now.year})
    return f"INV-{now.year}-{last:06d}"


def invoice_lines(payment: Payment) -> list[dict[str, Any]]:
    """The invoice's lines: products, then fees, discounts and tip as lines of their own."""
    data = payment.order_data or {}
    lines = [
        {
            "description": line["description"],
            "quantity": line["quantity"],
            "unitPrice": line["unitPrice"]["amount"],
            "total": line["lineTotal"]["amount"],
        }
        for line in data.get("lines") or []
    ]
    price = data.get("price") or {}
    for key, label, sign in (
        ("discounts", "Discounts", -1),
        ("deliveryFee", "Delivery fee", 1),
        ("surcharge", "Surcharge", 1),
        ("tip", "Tip", 1),
    ):
        amount = (price.get(key) or {}).get("amount", 0) * sign
        if amount:
            lines.append(
                {"description": label, "quantity": 1, "unitPrice": amount, "total": amount}
            )
    return lines


async def issue_invoice(
    *, session: AsyncSession, payment: Payment, now: datetime | None = None
) -> Invoice:
    """The invoice of a captured payment: lines + tax = the amount captured (issued once)."""
    existing = await session.scalar(select(Invoice).where(Invoice.order_id == payment.order_id))
    if existing is not None:
        return existing
    now = now or utcnow()
    lines = invoice_lines(payment)
    tax = ((payment.order_data or {}).get("price") or {}).get("tax", {}).get("amount", 0)
    subtotal = sum(line["total"] for line in lines)
    if not lines or subtotal + tax != payment.amount:
        # No usable breakdown from the order: one line for the whole amount.
        lines = [
            {
                "description": f"Order {payment.order_number or payment.order_id}",
                "quantity": 1,
                "unitPrice": payment.amount - tax,
                "total": payment.amount - tax,
            }
        ]
        subtotal = payment.amount - tax
    invoice = Invoice(
        id=new_id("inv"),
        order_id=payment.order_id,
        payment_id=payment.id,
        number=await next_invoice_number(session=session, now=now),
        lines=lines,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        currency=payment.currency,
        issued_at=now,
    )
    session.add(invoice)
    await session.flush()
    return invoice


def can_capture(payment: Payment) -> bool:
    """A held card amount, or cash not collected yet."""
    return payment.status == "AUTHORIZED" or (
        payment.status == "PENDING" and payment.method not in GATEWAY_METHODS
    )


async def capture(
    *, session: AsyncSession, gateway: PaymentGateway, payment: Payment, now: datetime | None = None
) -> Announcement:
    """Take the money (card: at the gateway; cash: collected at the door) and invoice it."""
    if not can_capture(payment):
        raise Conflict(
            f"A {payment.status} payment cannot be captured.", code="INVALID_PAYMENT_STATE"
        )
    now = now or utcnow()
    if payment.method in GATEWAY_METHODS:
        try:
            await gateway.capture(
                reference=payment.gateway_reference or "",
                amount=payment.amount,
                idempotency_key=f"{payment.id}:capture",
            )
        except GatewayTimeout as exc:
            # Unknown outcome: retrying with the same idempotency key is safe.
            raise GatewayUnavailable(str(exc)) from exc
    payment.status = "CAPTURED"
    payment.captured_at = now
    payment.updated_at = now
    await issue_invoice(session=session, payment=payment, now=now)
    return announce("PaymentCaptured", payment)


async def invoice_for_download(
    *, session: AsyncSession, principal: Principal | None, number: str
) -> tuple[Invoice, Payment]:
    """Invoice ``number`` and its payment, for the order's customer, its store's staff, admins.

    UNAUTHENTICATED without a caller, NOT_FOUND for an unknown number, FORBIDDEN for others.
    """
    caller = require_principal(principal)
    invoice = await session.scalar(select(Invoice).where(Invoice.number == number))
    payment = await session.get(Payment, invoice.payment_id) if invoice is not None else None
    if invoice is None or payment is None:
        raise NotFound(f"No invoice {number!r}.")
    if not can_read_payment(caller, payment):
        raise Forbidden("Only the order's customer and its store's staff see this invoice.")
    return invoice, payment


# --- staff ------------------------------------------------------------------------------


async def staff_payment(
    *, session: AsyncSession, principal: Principal | None, order_id: str
) -> Payment:
    """The payment of ``order_id`` when the caller is staff of its store or an admin."""
    caller = require_principal(principal)
    if not caller.is_staff:
        raise Forbidden("Only store staff and admins handle payments.")
    payment = await payment_for_order(session=session, order_id=order_id)
    if payment is None:
        raise NotFound(f"No payment for order {order_id!r}.")
    if not is_store_staff(caller, payment.store_id):
        raise Forbidden("Only staff of the order's store handle its payment.")
    return payment


# --- order changes (OrderModified) ------------------------------------------------------


async def adjust_to_order(
    *,
    gateway: PaymentGateway,
    payment: Payment,
    order_modified: dict[str, Any],
    now: datetime | None = None,
) -> Announcement | None:
    """The customer changed the order: follow the new total and invoice data.

    Less than what is held: capture will take only the new total (the rest is released).
    More than what is held: a new authorization replaces the old one; a decline ends the
    saga like a declined placement.
    """
    now = now or utcnow()
    total = order_modified["total"]["amount"]
    payment.order_data = _order_data(order_modified)
    payment.updated_at = now
    if payment.status == "PENDING" or (payment.status == "AUTHORIZED" and total <= payment.amount):
        payment.amount = total
        return None
    if payment.status != "AUTHORIZED" or payment.method not in GATEWAY_METHODS:
        return None
    old_reference = payment.gateway_reference
    try:
        result = await gateway.authorize(
            token=payment.token or "",
            amount=total,
            currency=payment.currency,
            idempotency_key=f"{payment.id}:reauthorize:{total}",
            metadata=gateway_metadata(payment),
        )
    except GatewayTimeout:
        result = GatewayResult(
            approved=False,
            decline_code="gateway_timeout",
            decline_reason="The payment provider did not answer.",
        )
    if old_reference:
        await gateway.void(reference=old_reference, idempotency_key=f"{payment.id}:void")
    if not result.approved:
        payment.status = "DECLINED"
        payment.decline_code = result.decline_code
        payment.decline_reason = result.decline_reason
        return announce(
            "PaymentDeclined", payment, reason=result.decline_reason, code=result.decline_code
        )
    payment.amount = total
    payment.gateway_reference = result.reference
    payment.authorized_at = now
    return announce("PaymentAuthorized", payment)
