"""What payments consumes (``OrderPlaced``, ``OrderStatusChanged``, ``OrderModified``) and
publishes (``PaymentAuthorized``, ``PaymentDeclined``, ``PaymentCaptured``,
``PaymentVoided``, ``PaymentRefunded``).

Consumers are idempotent by event id (``handled_events``, written with the outcome),
and every gateway call has an idempotency key, so an event delivered twice never
charges twice. What the rules announce is staged in the outbox in the transaction
that records the outcome (``shared.outbox`` publishes it once committed).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.bus import Event
from shared.subgraph import SubgraphRuntime
from subgraphs.payments import refunds, service
from subgraphs.payments.gateway import PaymentGateway, TestGateway

SOURCE = "payments"
GROUP = "payments"
CONSUMED = ("OrderPlaced", "OrderStatusChanged", "OrderModified")
CAPTURE_ON = frozenset({"DELIVERED", "PICKED_UP"})


def gateway_of(runtime: SubgraphRuntime) -> PaymentGateway:
    """The gateway of this runtime: the local test gateway unless one was configured."""
    return runtime.extras.setdefault("payment_gateway", TestGateway())


async def stage(
    session: AsyncSession, announcements: Iterable[service.Announcement | None]
) -> None:
    """Stage what the rules announced in the outbox, in the caller's transaction."""
    for item in announcements:
        if item is not None:
            await outbox.stage(session, Event(type=item.type, source=SOURCE, payload=item.payload))


async def _on_order_placed(runtime: SubgraphRuntime, event: Event) -> None:
    gateway = gateway_of(runtime)
    announcement = None
    async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
        if await service.was_handled(session=session, event_id=event.id):
            return
        payment = await service.open_payment(session=session, order_placed=event.payload)
        # Commit before asking the gateway: no write transaction stays open during the call.
        await session.commit()
        if payment is not None:
            announcement = await service.authorize(gateway=gateway, payment=payment)
            with session.no_autoflush:
                status_now = await service.stored_status(session=session, payment_id=payment.id)
            if status_now != "PENDING":
                # Cancelled while the gateway was deciding: release any hold, announce nothing.
                payment_id, reference = payment.id, payment.gateway_reference
                await session.rollback()
                await service.release_late_authorization(
                    gateway=gateway, payment_id=payment_id, reference=reference
                )
                announcement = None
        await service.mark_handled(session=session, event_id=event.id, event_type=event.type)
        await stage(session, [announcement])
        await session.commit()


async def _on_status_changed(runtime: SubgraphRuntime, event: Event) -> None:
    payload = event.payload
    announcement = None
    gateway = gateway_of(runtime)
    async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
        if not await service.mark_handled(
            session=session, event_id=event.id, event_type=event.type
        ):
            return
        if payload["to"] in CAPTURE_ON:
            payment = await service.payment_for_order(session=session, order_id=payload["orderId"])
            if payment is not None and service.can_capture(payment):
                announcement = await service.capture(
                    session=session, gateway=gateway, payment=payment
                )
        elif payload["to"] == "CANCELLED":
            announcement = await refunds.settle_cancellation(
                session=session,
                gateway=gateway,
                order_id=payload["orderId"],
                customer_id=payload["customerId"],
                store_id=payload["storeId"],
                actor=str(payload.get("actor") or SOURCE),
            )
        await stage(session, [announcement])
        await session.commit()


async def _on_order_modified(runtime: SubgraphRuntime, event: Event) -> None:
    announcement = None
    async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
        if not await service.mark_handled(
            session=session, event_id=event.id, event_type=event.type
        ):
            return
        payment = await service.payment_for_order(
            session=session, order_id=event.payload["orderId"]
        )
        if payment is not None:
            announcement = await service.adjust_to_order(
                gateway=gateway_of(runtime), payment=payment, order_modified=event.payload
            )
        await stage(session, [announcement])
        await session.commit()


HANDLERS = {
    "OrderPlaced": _on_order_placed,
    "OrderStatusChanged": _on_status_changed,
    "OrderModified": _on_order_modified,
}


async def handle(runtime: SubgraphRuntime, event: Event) -> None:
    """Apply one consumed event once."""
    handler = HANDLERS.get(event.type)
    if handler is not None:
        await handler(runtime, event)


def register_consumers(runtime: SubgraphRuntime) -> None:
    """Subscribe payments to the order events of the saga."""

    async def handler(event: Event) -> None:
        await handle(runtime, event)

    runtime.bus.subscribe(group=GROUP, types=CONSUMED, handler=handler)
