"""orders: REFUNDED, set from payments' PaymentRefunded (events.handle), never by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.bus import Event
from shared.db import utcnow
from shared.errors import Conflict
from subgraphs.orders import events, service
from subgraphs.orders.models import Order
from tests.subgraphs.orders.conftest import CUSTOMER, NOW, STAFF, delivery_cart

CAPTURED_AT = (NOW + timedelta(minutes=40)).isoformat()
REFUNDED_AT = NOW + timedelta(days=1)


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
            idempotency_key="refund",
            now=NOW,
        )
        await session.commit()
    return placement.order.id


async def _order(runtime, order_id: str) -> Order:
    async with runtime.db.session() as session:
        return await session.get(Order, order_id)


async def _move(runtime, order_id: str, to: str) -> None:
    async with runtime.db.session() as session:
        if to == "CANCELLED":
            await service.cancel_order(
                session=session, principal=STAFF, order_id=order_id, reason="x", now=NOW
            )
        else:
            await service.advance_order(
                session=session, principal=STAFF, order_id=order_id, to=to, now=NOW
            )
        await session.commit()


def refunded(order_id: str, **changes) -> Event:
    """PaymentRefunded as payments publishes it: paid back in full by a staff member."""
    payload = {
        "orderId": order_id,
        "paymentId": "pay_1",
        "amount": {"amount": 4302, "currency": "USD"},
        "refundedAmount": {"amount": 4302, "currency": "USD"},
        "fullyRefunded": True,
        "capturedAt": CAPTURED_AT,
        "refundedAt": REFUNDED_AT.isoformat(),
        "actor": STAFF.user_id,
        "reason": "Cold pizza",
        **changes,
    }
    return Event(type="PaymentRefunded", source="payments", payload=payload)


@pytest.mark.parametrize("current", ["DELIVERED", "PICKED_UP", "CANCELLED"])
def test_a_handed_over_or_cancelled_order_with_a_capture_may_be_refunded(current) -> None:
    service.check_refund(current=current, payment_captured=True)


@pytest.mark.parametrize("current", ["PLACED", "BAKE", "OUT_FOR_DELIVERY", "REFUNDED"])
def test_an_order_on_the_tracker_or_refunded_already_may_not(current) -> None:
    with pytest.raises(Conflict) as refused:
        service.check_refund(current=current, payment_captured=True)
    assert refused.value.code == "INVALID_TRANSITION"


def test_an_order_whose_payment_was_never_captured_may_not_be_refunded() -> None:
    with pytest.raises(Conflict) as refused:
        service.check_refund(current="CANCELLED", payment_captured=False)
    assert refused.value.code == "INVALID_TRANSITION"


async def test_staff_cannot_move_an_order_to_refunded_by_hand(runtime, order_id) -> None:
    await _move(runtime, order_id, "DELIVERED")
    with pytest.raises(Conflict):
        await _move(runtime, order_id, "REFUNDED")


async def test_a_full_refund_of_a_delivered_order_makes_it_refunded(
    runtime, recording_bus, order_id
) -> None:
    await _move(runtime, order_id, "DELIVERED")
    await events.handle(runtime, refunded(order_id))
    order = await _order(runtime, order_id)
    assert order.status == "REFUNDED"
    last = order.stages[-1]
    assert (last.stage, last.actor, last.at) == ("REFUNDED", STAFF.user_id, REFUNDED_AT)
    [changed] = recording_bus.of_type("OrderStatusChanged")
    assert (changed.payload["from"], changed.payload["to"]) == ("DELIVERED", "REFUNDED")
    assert changed.payload["actor"] == STAFF.user_id


async def test_a_refund_after_a_cancellation_makes_the_order_refunded(runtime, order_id) -> None:
    await _move(runtime, order_id, "CANCELLED")
    await events.handle(runtime, refunded(order_id, actor="payments"))
    order = await _order(runtime, order_id)
    assert [s.stage for s in order.stages][-2:] == ["CANCELLED", "REFUNDED"]
    assert order.stages[-1].actor == "payments"


async def test_the_same_refund_event_twice_moves_the_order_once(
    runtime, recording_bus, order_id
) -> None:
    await _move(runtime, order_id, "DELIVERED")
    event = refunded(order_id)
    await events.handle(runtime, event)
    await events.handle(runtime, event)
    await events.handle(runtime, refunded(order_id))  # the same news, republished
    order = await _order(runtime, order_id)
    assert [s.stage for s in order.stages].count("REFUNDED") == 1
    assert len(recording_bus.of_type("OrderStatusChanged")) == 1


async def test_a_partial_refund_leaves_the_order_as_it_is(runtime, order_id) -> None:
    await _move(runtime, order_id, "DELIVERED")
    partial = refunded(order_id, amount={"amount": 500, "currency": "USD"}, fullyRefunded=False)
    await events.handle(runtime, partial)
    assert (await _order(runtime, order_id)).status == "DELIVERED"


async def test_a_refund_of_an_order_still_on_the_tracker_is_not_applied(
    runtime, recording_bus, order_id
) -> None:
    await _move(runtime, order_id, "BAKE")
    await events.handle(runtime, refunded(order_id))
    assert (await _order(runtime, order_id)).status == "BAKE"
    assert recording_bus.of_type("OrderStatusChanged") == []


async def test_a_refund_without_a_capture_is_not_applied(runtime, order_id) -> None:
    await _move(runtime, order_id, "CANCELLED")
    await events.handle(runtime, refunded(order_id, capturedAt=None))
    assert (await _order(runtime, order_id)).status == "CANCELLED"


async def test_a_refund_without_a_readable_time_is_stamped_now(runtime, order_id) -> None:
    await _move(runtime, order_id, "DELIVERED")
    await events.handle(runtime, refunded(order_id, refundedAt="yesterday"))
    order = await _order(runtime, order_id)
    assert order.status == "REFUNDED"
    assert abs(order.stages[-1].at - utcnow()) < timedelta(minutes=1)
