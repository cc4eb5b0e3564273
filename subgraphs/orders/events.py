"""What orders publishes (``OrderPlaced``, ``OrderStatusChanged``, ``OrderModified``) and
consumes (``PaymentAuthorized``, ``PaymentDeclined``, ``PaymentRefunded``, ``DriverAssigned``,
``DeliveryCompleted``). Events are staged in the outbox in the transaction of the change
(``stage_*``; ``shared.outbox`` publishes them once committed); consumers are idempotent
by event id (``handled_events``, written in the same transaction as the change).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared import live, outbox
from shared.bus import Event
from shared.subgraph import SubgraphRuntime
from subgraphs.orders import service
from subgraphs.orders.models import Order
from subgraphs.orders.pricing import as_utc

log = logging.getLogger(__name__)

SOURCE = "orders"
GROUP = "orders"
CONSUMED = (
    "PaymentAuthorized",
    "PaymentDeclined",
    "PaymentRefunded",
    "DriverAssigned",
    "DeliveryCompleted",
)


def _money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def _price(order: Order) -> dict[str, Any]:
    return {
        key: _money(getattr(order, attr), order.currency)
        for key, attr in (
            ("subtotal", "subtotal"),
            ("discounts", "discounts"),
            ("deliveryFee", "delivery_fee"),
            ("surcharge", "surcharge"),
            ("tax", "tax"),
            ("tip", "tip"),
            ("total", "total"),
        )
    }


def _lines(order: Order) -> list[dict[str, Any]]:
    return [
        {
            "productId": line.product_id,
            "description": f"{line.product_name} ({line.variant_name}) {line.description}".strip(),
            "quantity": line.quantity,
            "unitPrice": _money(line.unit_price, order.currency),
            "lineTotal": _money(line.line_total, order.currency),
        }
        for line in order.lines
    ]


def order_placed_payload(order: Order) -> dict[str, Any]:
    """The contract's ``OrderPlaced`` payload, plus ``price`` and ``lines`` for invoices."""
    location = (
        {"lat": order.address_lat, "lng": order.address_lng}
        if order.service_method == "DELIVERY" and order.address_lat is not None
        else None
    )
    return {
        "orderId": order.id,
        "number": order.number,
        "customerId": order.customer_id,
        "storeId": order.store_id,
        "serviceMethod": order.service_method,
        "total": _money(order.total, order.currency),
        "paymentMethod": {"type": order.payment_method, "token": order.payment_token},
        "deliveryLocation": location,
        "placedAt": order.placed_at.isoformat(),
        "price": _price(order),
        "lines": _lines(order),
    }


def status_changed_payload(change: service.StatusChange) -> dict[str, Any]:
    """The contract's ``OrderStatusChanged`` payload."""
    order = change.order
    return {
        "orderId": order.id,
        "customerId": order.customer_id,
        "storeId": order.store_id,
        "serviceMethod": order.service_method,
        "from": change.from_status,
        "to": change.to_status,
        "at": change.at.isoformat(),
        "actor": change.actor,
    }


async def stage_order_placed(session: AsyncSession, order: Order) -> None:
    """Announce a new order (payments authorizes, delivery prepares, notifications tell)."""
    await outbox.stage(
        session, Event(type="OrderPlaced", source=SOURCE, payload=order_placed_payload(order))
    )


async def stage_status_changes(
    session: AsyncSession, changes: Iterable[service.StatusChange | None]
) -> None:
    """Announce each move through the tracker."""
    for change in changes:
        if change is not None:
            await outbox.stage(
                session,
                Event(
                    type="OrderStatusChanged", source=SOURCE, payload=status_changed_payload(change)
                ),
            )


async def stage_order_modified(session: AsyncSession, order: Order) -> None:
    """Announce new lines or a new total (payments adjusts the amount and invoice data)."""
    await outbox.stage(
        session,
        Event(
            type="OrderModified",
            source=SOURCE,
            payload={
                "orderId": order.id,
                "customerId": order.customer_id,
                "storeId": order.store_id,
                "total": _money(order.total, order.currency),
                "price": _price(order),
                "lines": _lines(order),
            },
        ),
    )


def _moment(value: Any) -> datetime | None:
    """An ISO timestamp of a payload as aware UTC; None when missing or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        return as_utc(datetime.fromisoformat(value))
    except ValueError:
        return None


async def handle(runtime: SubgraphRuntime, event: Event) -> None:
    """Apply one consumed event once, with any status change it caused, in one transaction."""
    payload = event.payload
    change: service.StatusChange | None = None
    async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
        if not await service.mark_handled(
            session=session, event_id=event.id, event_type=event.type
        ):
            return
        order_id = str(payload.get("orderId") or "")
        if event.type == "PaymentAuthorized":
            await service.confirm_payment(
                session=session, order_id=order_id, payment_id=payload.get("paymentId")
            )
        elif event.type == "PaymentDeclined":
            change = await service.move_by_event(
                session=session, order_id=order_id, to="CANCELLED", actor="payments"
            )
        elif event.type == "PaymentRefunded":
            change = await service.refund_by_event(
                session=session,
                order_id=order_id,
                actor=str(payload.get("actor") or "payments"),
                payment_captured=bool(payload.get("capturedAt")),
                fully_refunded=bool(payload.get("fullyRefunded")),
                now=_moment(payload.get("refundedAt")),
            )
        elif event.type == "DriverAssigned":
            change = await service.move_by_event(
                session=session, order_id=order_id, to="OUT_FOR_DELIVERY", actor="delivery"
            )
        elif event.type == "DeliveryCompleted":
            change = await service.move_by_event(
                session=session, order_id=order_id, to="DELIVERED", actor="delivery"
            )
        await stage_status_changes(session, [change])
        await session.commit()
    if change is not None:  # live tracking (orderUpdated, storeOrders), after the commit
        order = change.order
        await live.publish_live(
            runtime.settings,
            live.order_changed(order_id=order.id, store_id=order.store_id, status=order.status),
        )


def register_consumers(runtime: SubgraphRuntime) -> None:
    """Subscribe orders to the saga's events."""

    async def handler(event: Event) -> None:
        await handle(runtime, event)

    runtime.bus.subscribe(group=GROUP, types=CONSUMED, handler=handler)
