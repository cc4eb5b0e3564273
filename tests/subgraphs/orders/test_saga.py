"""orders: consuming payment and delivery events (events.handle), idempotent by event id."""

from __future__ import annotations

import pytest

from shared.bus import Event
from subgraphs.orders import events, service
from subgraphs.orders.models import Order
from tests.subgraphs.orders.conftest import CUSTOMER, NOW, STAFF, delivery_cart


@pytest.fixture
async def order_id(runtime, catalog) -> str:
    """A placed delivery order of the demo customer."""
    async with runtime.db.session() as session:
        placement = await service.place_order(
            session=session,
            catalog=catalog,
            principal=CUSTOMER,
            cart=delivery_cart(),
            payment=service.PaymentChoice(type="CARD", token="tok_visa"),
            idempotency_key="saga",
            now=NOW,
        )
        await session.commit()
    return placement.order.id


async def _order(runtime, order_id: str) -> Order:
    async with runtime.db.session() as session:
        return await session.get(Order, order_id)


async def _advance_to(runtime, order_id: str, to: str) -> None:
    async with runtime.db.session() as session:
        await service.advance_order(session=session, principal=STAFF, order_id=order_id, to=to)
        await session.commit()


def _event(kind: str, order_id: str, **payload) -> Event:
    return Event(type=kind, source="test", payload={"orderId": order_id, **payload})


async def test_payment_authorized_confirms_the_order(runtime, recording_bus, order_id) -> None:
    await events.handle(runtime, _event("PaymentAuthorized", order_id, paymentId="pay_1"))
    order = await _order(runtime, order_id)
    assert order.confirmed_at is not None and order.payment_id == "pay_1"
    assert order.status == "PLACED"
    assert recording_bus.published == []


async def test_payment_declined_cancels_and_announces_it(runtime, recording_bus, order_id) -> None:
    declined = _event("PaymentDeclined", order_id, paymentId="p", reason="declined", code="x")
    await events.handle(runtime, declined)
    order = await _order(runtime, order_id)
    assert order.status == "CANCELLED"
    assert (order.stages[-1].stage, order.stages[-1].actor) == ("CANCELLED", "payments")
    [changed] = recording_bus.of_type("OrderStatusChanged")
    assert changed.payload == {
        "orderId": order_id,
        "customerId": CUSTOMER.user_id,
        "storeId": order.store_id,
        "serviceMethod": "DELIVERY",
        "from": "PLACED",
        "to": "CANCELLED",
        "at": changed.payload["at"],
        "actor": "payments",
    }


async def test_driver_assigned_then_delivery_completed(runtime, recording_bus, order_id) -> None:
    await _advance_to(runtime, order_id, "QUALITY_CHECK")
    await events.handle(runtime, _event("DriverAssigned", order_id, driverId="usr_d"))
    assert (await _order(runtime, order_id)).status == "OUT_FOR_DELIVERY"
    await events.handle(runtime, _event("DeliveryCompleted", order_id, driverId="usr_d"))
    order = await _order(runtime, order_id)
    assert order.status == "DELIVERED"
    assert [s.actor for s in order.stages[-2:]] == ["delivery", "delivery"]
    assert [e.payload["to"] for e in recording_bus.of_type("OrderStatusChanged")] == [
        "OUT_FOR_DELIVERY",
        "DELIVERED",
    ]


async def test_the_same_event_twice_is_applied_once(runtime, recording_bus, order_id) -> None:
    await _advance_to(runtime, order_id, "QUALITY_CHECK")
    assigned = _event("DriverAssigned", order_id, driverId="usr_d")
    await events.handle(runtime, assigned)
    await events.handle(runtime, assigned)
    order = await _order(runtime, order_id)
    assert [s.stage for s in order.stages].count("OUT_FOR_DELIVERY") == 1
    assert len(recording_bus.of_type("OrderStatusChanged")) == 1


async def test_stale_news_never_moves_an_order_back(runtime, recording_bus, order_id) -> None:
    await _advance_to(runtime, order_id, "DELIVERED")
    await events.handle(runtime, _event("DriverAssigned", order_id, driverId="usr_d"))
    await events.handle(runtime, _event("PaymentDeclined", order_id, reason="late"))
    assert (await _order(runtime, order_id)).status == "DELIVERED"
    assert recording_bus.published == []


async def test_events_for_unknown_orders_are_ignored(runtime, recording_bus) -> None:
    await events.handle(runtime, _event("DeliveryCompleted", "ord_missing"))
    assert recording_bus.published == []
