"""Orders' rules: placing (idempotent), the tracker's state machine, cancel and modify.

Plain async functions with keyword-only arguments over a SQLAlchemy session; no
GraphQL here. Pricing rules live in :mod:`subgraphs.orders.pricing`. Functions
that change an order's status return :class:`StatusChange` records; the caller
commits, then publishes them (``events.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, require_principal
from shared.db import take_next, utcnow
from shared.errors import Conflict, DomainError, Forbidden, NotFound
from shared.ids import new_id
from subgraphs.orders import coupons
from subgraphs.orders.catalog import CartLine, Catalog
from subgraphs.orders.models import HandledEvent, Order, OrderLine, OrderNumberCounter, OrderStage
from subgraphs.orders.pricing import Cart, DeliveryAddress, PricedCart, as_utc, price_cart

log = logging.getLogger(__name__)

FLOWS: dict[str, tuple[str, ...]] = {
    "DELIVERY": ("PLACED", "PREP", "BAKE", "QUALITY_CHECK", "OUT_FOR_DELIVERY", "DELIVERED"),
    "CARRYOUT": ("PLACED", "PREP", "BAKE", "QUALITY_CHECK", "READY_FOR_PICKUP", "PICKED_UP"),
}
"""The tracker's stages per service method, in order."""
FINAL_STATUSES = frozenset({"DELIVERED", "PICKED_UP", "CANCELLED", "REFUNDED"})
REFUNDABLE_STATUSES = frozenset({"DELIVERED", "PICKED_UP", "CANCELLED"})
"""Where REFUNDED comes from: a handed-over order, or one cancelled after its capture."""
PAYMENT_METHODS = ("CARD", "CASH", "GIFT_CARD")
MAX_IDEMPOTENCY_KEY = 200


@dataclass(frozen=True, slots=True)
class PaymentChoice:
    """How the customer pays: a method and, for cards and gift cards, a gateway token."""

    type: str
    token: str | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One move of an order through the tracker, to announce as ``OrderStatusChanged``."""

    order: Order
    from_status: str
    to_status: str
    at: datetime
    actor: str


@dataclass(frozen=True, slots=True)
class Placement:
    """Result of :func:`place_order`; ``created`` is False for a repeated idempotency key."""

    order: Order
    created: bool


# --- access -----------------------------------------------------------------------------


def is_store_staff(principal: Principal | None, store_id: str) -> bool:
    """Admins, and staff of ``store_id``, run that store's orders."""
    if principal is None:
        return False
    if principal.has_role("ADMIN"):
        return True
    return principal.has_role("STAFF") and principal.store_id == store_id


def can_read_order(principal: Principal | None, order: Order) -> bool:
    """The customer who placed it, staff of its store and admins."""
    return principal is not None and (
        principal.user_id == order.customer_id or is_store_staff(principal, order.store_id)
    )


async def get_order(*, session: AsyncSession, order_id: str) -> Order:
    """The order with ``order_id``; NOT_FOUND otherwise."""
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound(f"No order has id {order_id!r}.")
    return order


async def read_order(*, session: AsyncSession, principal: Principal | None, order_id: str) -> Order:
    """The order when the caller may see it: other customers get NOT_FOUND, other staff FORBIDDEN."""
    caller = require_principal(principal)
    order = await session.get(Order, order_id)
    if order is None or (not caller.is_staff and order.customer_id != caller.user_id):
        raise NotFound(f"No order of yours has id {order_id!r}.")
    if not can_read_order(caller, order):
        raise Forbidden("Only staff of the order's store can see it.")
    return order


# --- placement --------------------------------------------------------------------------


def _check_payment(payment: PaymentChoice) -> None:
    if payment.type not in PAYMENT_METHODS:
        raise DomainError(
            "Unknown payment method.", code="INVALID_PAYMENT_METHOD", field="paymentMethod.type"
        )
    if payment.type != "CASH" and not (payment.token or "").strip():
        raise DomainError(
            "Card and gift card payments need a token from the payment form.",
            code="PAYMENT_TOKEN_REQUIRED",
            field="paymentMethod.token",
        )


def _check_idempotency_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY:
        raise DomainError(
            f"The idempotency key must have 1..{MAX_IDEMPOTENCY_KEY} characters.",
            code="INVALID_IDEMPOTENCY_KEY",
            field="idempotencyKey",
        )
    return key


async def _by_idempotency_key(session: AsyncSession, customer_id: str, key: str) -> Order | None:
    return await session.scalar(
        select(Order).where(Order.customer_id == customer_id, Order.idempotency_key == key)
    )


def _local_day(now: datetime, time_zone: str) -> datetime:
    try:
        return now.astimezone(ZoneInfo(time_zone))
    except (ZoneInfoNotFoundError, ValueError):
        return now.astimezone(UTC)


async def next_order_number(
    *, session: AsyncSession, store_id: str, now: datetime, time_zone: str
) -> str:
    """A human number per store per local day, e.g. ``1125-0042`` (the 42nd of 25 Nov)."""
    local = _local_day(now, time_zone)
    day = local.strftime("%Y-%m-%d")
    last = await take_next(session, OrderNumberCounter, {"store_id": store_id, "day": day})
    return f"{local:%m%d}-{last:04d}"


def _customization(line: CartLine) -> dict:
    return {"toppings": line.toppings or [], "instructions": line.instructions}


def _record_stage(order: Order, stage: str, *, at: datetime, actor: str) -> None:
    order.stages.append(
        OrderStage(id=new_id("stg"), stage=stage, at=at, actor=actor, seq=len(order.stages))
    )


def _order_lines(priced: PricedCart) -> list[OrderLine]:
    return [
        OrderLine(
            id=new_id("oln"),
            position=position,
            product_id=line.product_id,
            variant_id=line.variant_id,
            product_name=line.product_name,
            variant_name=line.variant_name,
            category_code=line.category_code,
            size=line.size,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=line.line_total,
            customization=_customization(priced.cart.lines[line.index]),
        )
        for position, line in enumerate(priced.lines)
    ]


def _apply_price(order: Order, priced: PricedCart) -> None:
    price = priced.price
    order.currency = price.currency
    order.subtotal = price.subtotal
    order.discounts = price.discounts
    order.delivery_fee = price.delivery_fee
    order.surcharge = price.surcharge
    order.tax = price.tax
    order.tip = price.tip
    order.total = price.total
    order.tax_rate_basis_points = priced.quote.tax_rate_basis_points


async def place_order(
    *,
    session: AsyncSession,
    catalog: Catalog,
    principal: Principal | None,
    cart: Cart,
    payment: PaymentChoice,
    idempotency_key: str,
    now: datetime | None = None,
) -> Placement:
    """Price ``cart`` and write the order; a key the customer used already returns that order."""
    caller = require_principal(principal)
    key = _check_idempotency_key(idempotency_key)
    existing = await _by_idempotency_key(session, caller.user_id, key)
    if existing is not None:
        return Placement(order=existing, created=False)
    _check_payment(payment)
    now = now or utcnow()
    priced = await price_cart(catalog=catalog, cart=cart, now=now)
    accepted = priced.quote.payment_methods
    if accepted is not None and payment.type not in accepted:
        raise DomainError(
            f"This store does not take {payment.type} payments.",
            code="PAYMENT_METHOD_NOT_ACCEPTED",
            field="paymentMethod.type",
        )
    address = cart.delivery_address if cart.service_method == "DELIVERY" else None
    order = Order(
        id=new_id("ord"),
        number=await next_order_number(
            session=session, store_id=cart.store_id, now=now, time_zone=priced.quote.time_zone
        ),
        customer_id=caller.user_id,
        store_id=cart.store_id,
        status="PLACED",
        service_method=cart.service_method,
        coupon_code=priced.coupons[0].code if priced.coupons else None,
        address_line1=address.line1 if address else None,
        address_line2=address.line2 if address else None,
        address_city=address.city if address else None,
        address_postcode=address.postcode if address else None,
        address_lat=address.lat if address else None,
        address_lng=address.lng if address else None,
        address_instructions=address.instructions if address else None,
        payment_method=payment.type,
        payment_token=payment.token,
        idempotency_key=key,
        placed_at=now,
        scheduled_for=as_utc(cart.scheduled_for) if cart.scheduled_for else None,
        updated_at=now,
        lines=_order_lines(priced),
        stages=[],
    )
    _apply_price(order, priced)
    _record_stage(order, "PLACED", at=now, actor=caller.user_id)
    session.add(order)
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent request with the same key won the race: answer with its order.
        await session.rollback()
        existing = await _by_idempotency_key(session, caller.user_id, key)
        if existing is None:
            raise
        return Placement(order=existing, created=False)
    await coupons.save_order_coupons(session=session, order_id=order.id, applied=priced.coupons)
    return Placement(order=order, created=True)


# --- the tracker ------------------------------------------------------------------------


def check_transition(*, service_method: str, current: str, to: str) -> None:
    """INVALID_TRANSITION unless ``to`` lies ahead of ``current`` on the method's path."""
    flow = FLOWS[service_method]
    if current in FINAL_STATUSES:
        raise Conflict(f"The order is {current} already.", code="INVALID_TRANSITION")
    if to not in flow:
        raise Conflict(
            f"A {service_method} order never goes to {to}.", code="INVALID_TRANSITION", field="to"
        )
    if flow.index(to) <= flow.index(current):
        raise Conflict(
            f"The order is {current}; it cannot go back to {to}.",
            code="INVALID_TRANSITION",
            field="to",
        )


def next_status(order: Order) -> str:
    """The stage after the current one; INVALID_TRANSITION at the end of the path."""
    flow = FLOWS[order.service_method]
    if order.status in FINAL_STATUSES or order.status not in flow:
        raise Conflict(f"The order is {order.status} already.", code="INVALID_TRANSITION")
    return flow[flow.index(order.status) + 1]


def move(order: Order, to: str, *, actor: str, now: datetime) -> StatusChange:
    """Set the status and record the stage (no checks: callers checked already)."""
    change = StatusChange(order=order, from_status=order.status, to_status=to, at=now, actor=actor)
    order.status = to
    order.updated_at = now
    _record_stage(order, to, at=now, actor=actor)
    return change


async def advance_order(
    *,
    session: AsyncSession,
    principal: Principal | None,
    order_id: str,
    to: str | None = None,
    now: datetime | None = None,
) -> StatusChange:
    """Staff move an order to the next stage (or a later one given in ``to``)."""
    caller = require_principal(principal)
    order = await get_order(session=session, order_id=order_id)
    if not is_store_staff(caller, order.store_id):
        raise Forbidden("Only staff of the order's store can advance it.")
    target = to or next_status(order)
    check_transition(service_method=order.service_method, current=order.status, to=target)
    return move(order, target, actor=caller.user_id, now=now or utcnow())


async def cancel_order(
    *,
    session: AsyncSession,
    principal: Principal | None,
    order_id: str,
    reason: str,
    now: datetime | None = None,
) -> StatusChange:
    """The customer cancels while PLACED; staff until delivered or picked up."""
    caller = require_principal(principal)
    order = await get_order(session=session, order_id=order_id)
    staff = is_store_staff(caller, order.store_id)
    if not staff:
        if order.customer_id != caller.user_id:
            raise NotFound(f"No order of yours has id {order_id!r}.")
        if order.status != "PLACED":
            raise Conflict(
                "The store has started on this order; call the store to cancel it.",
                code="ORDER_IN_PROGRESS",
            )
    if order.status in FINAL_STATUSES:
        raise Conflict(f"The order is {order.status} already.", code="INVALID_TRANSITION")
    order.cancel_reason = reason.strip() or None
    return move(order, "CANCELLED", actor=caller.user_id, now=now or utcnow())


async def modify_order(
    *,
    session: AsyncSession,
    catalog: Catalog,
    principal: Principal | None,
    order_id: str,
    lines: list[CartLine] | None = None,
    tip: int | None = None,
    now: datetime | None = None,
) -> Order:
    """The customer replaces the lines and/or the tip while PLACED; the order is re-priced."""
    caller = require_principal(principal)
    order = await get_order(session=session, order_id=order_id)
    if order.customer_id != caller.user_id:
        raise NotFound(f"No order of yours has id {order_id!r}.")
    if order.status != "PLACED":
        raise Conflict(
            "The store has started on this order; it can no longer change.",
            code="ORDER_IN_PROGRESS",
        )
    now = now or utcnow()
    cart = Cart(
        store_id=order.store_id,
        service_method=order.service_method,
        lines=lines if lines is not None else [_cart_line(line) for line in order.lines],
        delivery_address=order_address(order),
        # The original schedule stays; an ASAP order is checked as ASAP again.
        scheduled_for=order.scheduled_for
        if order.scheduled_for and order.scheduled_for > now
        else None,
        tip=order.tip if tip is None else tip,
        coupon_codes=tuple(
            c.code for c in await coupons.order_coupons(session=session, order_id=order.id)
        ),
        coupons_at=order.placed_at,
    )
    priced = await price_cart(catalog=catalog, cart=cart, now=now)
    await coupons.save_order_coupons(session=session, order_id=order.id, applied=priced.coupons)
    order.lines.clear()
    await session.flush()
    order.lines.extend(_order_lines(priced))
    _apply_price(order, priced)
    order.updated_at = now
    await session.flush()
    return order


def _cart_line(line: OrderLine) -> CartLine:
    custom = line.customization or {}
    return CartLine(
        variant_id=line.variant_id,
        quantity=line.quantity,
        toppings=custom.get("toppings") or None,
        instructions=custom.get("instructions"),
    )


def order_address(order: Order) -> DeliveryAddress | None:
    """The order's delivery address as the pricing rules take it."""
    if order.address_lat is None or order.address_lng is None:
        return None
    return DeliveryAddress(
        line1=order.address_line1 or "",
        line2=order.address_line2,
        city=order.address_city or "",
        postcode=order.address_postcode or "",
        lat=order.address_lat,
        lng=order.address_lng,
        instructions=order.address_instructions,
    )


# --- lists ------------------------------------------------------------------------------


async def list_orders(
    *,
    session: AsyncSession,
    offset: int,
    limit: int,
    status: str | None = None,
    store_id: str | None = None,
    customer_id: str | None = None,
    placed_from: datetime | None = None,
    placed_to: datetime | None = None,
    number: str | None = None,
) -> tuple[list[Order], int]:
    """A page of orders, newest first, and how many match in all (placed in [from, to))."""
    conditions = []
    if placed_from is not None:
        conditions.append(Order.placed_at >= as_utc(placed_from))
    if placed_to is not None:
        conditions.append(Order.placed_at < as_utc(placed_to))
    if number:
        conditions.append(Order.number == number.strip())
    if status:
        conditions.append(Order.status == status)
    if store_id:
        conditions.append(Order.store_id == store_id)
    if customer_id:
        conditions.append(Order.customer_id == customer_id)
    rows = await session.scalars(
        select(Order)
        .where(*conditions)
        .order_by(Order.placed_at.desc(), Order.id)
        .offset(offset)
        .limit(limit)
    )
    total = await session.scalar(select(func.count(Order.id)).where(*conditions))
    return list(rows), int(total or 0)


def scope_for_listing(
    principal: Principal | None, *, store_id: str | None, customer_id: str | None
) -> tuple[str | None, str | None]:
    """The (store, customer) filter the caller may list: admins all, staff their store,
    customers only their own orders."""
    caller = require_principal(principal)
    if caller.has_role("ADMIN"):
        return store_id, customer_id
    if caller.has_role("STAFF") and caller.store_id:
        if store_id and store_id != caller.store_id:
            raise Forbidden("Staff see the orders of their own store only.")
        return caller.store_id, customer_id
    if customer_id == caller.user_id and store_id is None:
        return None, customer_id
    raise Forbidden("Only staff and admins can list orders.")


# --- saga consumers ---------------------------------------------------------------------


async def mark_handled(*, session: AsyncSession, event_id: str, event_type: str) -> bool:
    """Record ``event_id`` as handled; False when it was handled already."""
    if await session.get(HandledEvent, event_id) is not None:
        return False
    session.add(HandledEvent(event_id=event_id, type=event_type, handled_at=utcnow()))
    return True


async def confirm_payment(
    *, session: AsyncSession, order_id: str, payment_id: str | None, now: datetime | None = None
) -> Order | None:
    """Payments authorized the order: it is confirmed (once)."""
    order = await session.get(Order, order_id)
    if order is None:
        return None
    order.payment_id = payment_id or order.payment_id
    if order.confirmed_at is None:
        order.confirmed_at = now or utcnow()
    return order


async def move_by_event(
    *, session: AsyncSession, order_id: str, to: str, actor: str, now: datetime | None = None
) -> StatusChange | None:
    """Another subgraph moved the order (driver assigned, delivered, payment declined).

    Stale or repeated news is ignored: an order never moves back, and a final order stays.
    """
    order = await session.get(Order, order_id)
    if order is None or order.status in FINAL_STATUSES or order.status == to:
        return None
    if to == "CANCELLED":
        order.cancel_reason = order.cancel_reason or "The payment was declined."
        return move(order, to, actor=actor, now=now or utcnow())
    flow = FLOWS[order.service_method]
    if to not in flow or flow.index(to) <= flow.index(order.status):
        return None
    return move(order, to, actor=actor, now=now or utcnow())


def check_refund(*, current: str, payment_captured: bool) -> None:
    """INVALID_TRANSITION unless an order at ``current`` may become REFUNDED.

    Only a payment that was captured can be paid back, and only an order that was
    handed over (DELIVERED, PICKED_UP) or CANCELLED ends REFUNDED; an order still on
    the tracker stays there (a refund there is a goodwill gesture, not the order's end).
    """
    if current == "REFUNDED":
        raise Conflict("The order is REFUNDED already.", code="INVALID_TRANSITION")
    if current not in REFUNDABLE_STATUSES:
        raise Conflict(
            f"A {current} order cannot be refunded; it must be delivered, picked up or "
            "cancelled first.",
            code="INVALID_TRANSITION",
        )
    if not payment_captured:
        raise Conflict(
            "Only an order whose payment was captured can be refunded.",
            code="INVALID_TRANSITION",
        )


async def refund_by_event(
    *,
    session: AsyncSession,
    order_id: str,
    actor: str,
    payment_captured: bool,
    fully_refunded: bool,
    now: datetime | None = None,
) -> StatusChange | None:
    """Payments paid the money back: the order becomes REFUNDED once it is paid back in full.

    A partial refund, an unknown order, or a refund the order's state does not allow
    (:func:`check_refund`) changes nothing; news of a refund never fails the consumer.
    """
    order = await session.get(Order, order_id)
    if order is None or not fully_refunded:
        return None
    try:
        check_refund(current=order.status, payment_captured=payment_captured)
    except Conflict as refused:
        log.info("refund of order %s not applied: %s", order_id, refused)
        return None
    return move(order, "REFUNDED", actor=actor, now=now or utcnow())
