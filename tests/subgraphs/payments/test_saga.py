"""payments: the saga handlers (events.handle) over the database and the test gateway."""

from __future__ import annotations

from sqlalchemy import func, select

from shared.bus import Event
from subgraphs.payments import events, service
from subgraphs.payments.models import Invoice, Payment
from tests.subgraphs.payments.conftest import ORDER_ID, order_placed, status_changed


async def _payment(runtime) -> Payment | None:
    async with runtime.db.session() as session:
        return await service.payment_for_order(session=session, order_id=ORDER_ID)


async def _invoice(runtime) -> Invoice | None:
    async with runtime.db.session() as session:
        return await session.scalar(select(Invoice).where(Invoice.order_id == ORDER_ID))


def _ops(gateway, kind: str) -> int:
    return sum(1 for op, _ in gateway.operations if op == kind)


async def test_card_order_is_authorized(runtime, recording_bus, gateway) -> None:
    await events.handle(runtime, order_placed())
    payment = await _payment(runtime)
    assert (payment.status, payment.amount, payment.method) == ("AUTHORIZED", 4302, "CARD")
    assert payment.authorized_at is not None
    [authorized] = recording_bus.published
    assert authorized.type == "PaymentAuthorized"
    assert authorized.payload == {
        "orderId": ORDER_ID,
        "paymentId": payment.id,
        "amount": {"amount": 4302, "currency": "USD"},
    }
    assert gateway.charges[payment.gateway_reference].amount == 4302


async def test_declined_card_announces_the_decline(runtime, recording_bus) -> None:
    await events.handle(runtime, order_placed(token="tok_chargeDeclined"))
    payment = await _payment(runtime)
    assert payment.status == "DECLINED" and payment.decline_reason
    [declined] = recording_bus.published
    assert declined.type == "PaymentDeclined"
    assert declined.payload["code"] == "card_declined"
    assert declined.payload["reason"] == payment.decline_reason


async def test_gateway_timeout_fails_the_payment_like_a_decline(runtime, recording_bus) -> None:
    await events.handle(runtime, order_placed(token="tok_timeout"))
    assert (await _payment(runtime)).status == "FAILED"
    [declined] = recording_bus.published
    assert (declined.type, declined.payload["code"]) == ("PaymentDeclined", "gateway_timeout")


async def test_cash_stays_pending_and_lets_the_order_go_ahead(
    runtime, recording_bus, gateway
) -> None:
    await events.handle(runtime, order_placed(method="CASH", token=None))
    assert (await _payment(runtime)).status == "PENDING"
    assert [e.type for e in recording_bus.published] == ["PaymentAuthorized"]
    assert gateway.operations == []


async def test_the_same_order_placed_event_twice_authorizes_once(
    runtime, recording_bus, gateway
) -> None:
    event = order_placed()
    await events.handle(runtime, event)
    await events.handle(runtime, event)
    assert _ops(gateway, "authorize") == 1 and len(gateway.charges) == 1
    assert len(recording_bus.published) == 1


async def test_a_republished_order_placed_event_does_not_charge_again(
    runtime, recording_bus, gateway
) -> None:
    await events.handle(runtime, order_placed())
    await events.handle(runtime, order_placed())  # same order, new event id
    assert len(gateway.charges) == 1
    assert [e.type for e in recording_bus.published] == ["PaymentAuthorized"]
    payment = await _payment(runtime)
    assert payment.status == "AUTHORIZED"
    assert not gateway.charges[payment.gateway_reference].voided
    async with runtime.db.session() as session:
        assert await session.scalar(select(func.count(Payment.id))) == 1


async def test_delivery_captures_and_issues_the_invoice(runtime, recording_bus, gateway) -> None:
    await events.handle(runtime, order_placed())
    await events.handle(runtime, status_changed("DELIVERED", frm="OUT_FOR_DELIVERY"))
    payment = await _payment(runtime)
    assert payment.status == "CAPTURED" and payment.captured_at is not None
    assert gateway.charges[payment.gateway_reference].captured == 4302
    assert recording_bus.published[-1].type == "PaymentCaptured"
    invoice = await _invoice(runtime)
    assert invoice.number.startswith("INV-")
    assert [(line["description"], line["total"]) for line in invoice.lines] == [
        ("Pepperoni Pizza (Large Hand Tossed)", 3198),
        ("Delivery fee", 499),
        ("Tip", 300),
    ]
    assert (invoice.subtotal, invoice.tax, invoice.total) == (3997, 305, 4302)


async def test_a_delivered_event_twice_captures_once(runtime, recording_bus, gateway) -> None:
    await events.handle(runtime, order_placed())
    delivered = status_changed("DELIVERED", frm="OUT_FOR_DELIVERY")
    await events.handle(runtime, delivered)
    await events.handle(runtime, delivered)
    await events.handle(runtime, status_changed("DELIVERED", frm="OUT_FOR_DELIVERY"))
    assert _ops(gateway, "capture") == 1
    assert [e.type for e in recording_bus.published].count("PaymentCaptured") == 1


async def test_pickup_captures_cash_without_the_gateway(runtime, gateway) -> None:
    await events.handle(runtime, order_placed(method="CASH", token=None))
    await events.handle(runtime, status_changed("PICKED_UP", frm="READY_FOR_PICKUP"))
    assert (await _payment(runtime)).status == "CAPTURED"
    assert gateway.operations == []
    assert (await _invoice(runtime)).total == 4302


async def test_cancelling_an_authorized_order_voids_the_hold(
    runtime, recording_bus, gateway
) -> None:
    await events.handle(runtime, order_placed())
    cancelled = status_changed("CANCELLED")
    await events.handle(runtime, cancelled)
    await events.handle(runtime, cancelled)
    payment = await _payment(runtime)
    assert payment.status == "VOIDED" and payment.voided_at is not None
    assert gateway.charges[payment.gateway_reference].voided
    assert [e.type for e in recording_bus.published] == ["PaymentAuthorized", "PaymentVoided"]


async def test_cancelling_a_captured_order_refunds_it(runtime, recording_bus, gateway) -> None:
    await events.handle(runtime, order_placed())
    await events.handle(runtime, status_changed("DELIVERED", frm="OUT_FOR_DELIVERY"))
    # Staff may cancel only before handover; a capture by staff followed by a cancel refunds.
    await events.handle(runtime, status_changed("CANCELLED", frm="OUT_FOR_DELIVERY"))
    payment = await _payment(runtime)
    assert (payment.status, payment.refunded_amount) == ("REFUNDED", 4302)
    assert gateway.charges[payment.gateway_reference].refunded == 4302
    assert recording_bus.published[-1].type == "PaymentRefunded"


async def test_declined_payment_needs_nothing_on_cancel(runtime, recording_bus, gateway) -> None:
    await events.handle(runtime, order_placed(token="tok_chargeDeclined"))
    await events.handle(runtime, status_changed("CANCELLED"))
    assert (await _payment(runtime)).status == "DECLINED"
    assert [e.type for e in recording_bus.published] == ["PaymentDeclined"]


async def test_cancellation_arriving_first_prevents_the_authorization(
    runtime, recording_bus, gateway
) -> None:
    await events.handle(runtime, status_changed("CANCELLED"))
    await events.handle(runtime, order_placed())
    payment = await _payment(runtime)
    assert (payment.status, payment.amount) == ("VOIDED", 4302)
    assert gateway.operations == [] and recording_bus.published == []


async def test_a_smaller_modified_order_captures_the_new_total(runtime, gateway) -> None:
    await events.handle(runtime, order_placed())
    modified = Event(
        type="OrderModified",
        source="orders",
        payload={"orderId": ORDER_ID, "total": {"amount": 2000, "currency": "USD"}},
    )
    await events.handle(runtime, modified)
    await events.handle(runtime, status_changed("DELIVERED", frm="OUT_FOR_DELIVERY"))
    payment = await _payment(runtime)
    assert (payment.status, payment.amount) == ("CAPTURED", 2000)
    assert gateway.charges[payment.gateway_reference].captured == 2000
    assert _ops(gateway, "authorize") == 1


async def test_a_larger_modified_order_is_authorized_again(runtime, recording_bus, gateway) -> None:
    await events.handle(runtime, order_placed())
    first_reference = (await _payment(runtime)).gateway_reference
    modified = Event(
        type="OrderModified",
        source="orders",
        payload={"orderId": ORDER_ID, "total": {"amount": 6000, "currency": "USD"}},
    )
    await events.handle(runtime, modified)
    payment = await _payment(runtime)
    assert (payment.status, payment.amount) == ("AUTHORIZED", 6000)
    assert payment.gateway_reference != first_reference
    assert gateway.charges[first_reference].voided
    assert [e.type for e in recording_bus.published] == ["PaymentAuthorized", "PaymentAuthorized"]


async def test_cancel_during_authorization_releases_the_hold(
    runtime, recording_bus, gateway
) -> None:
    authorize = gateway.authorize

    async def authorize_while_cancelled(**kwargs):
        # The customer cancels while the gateway is still deciding.
        await events.handle(runtime, status_changed("CANCELLED"))
        return await authorize(**kwargs)

    gateway.authorize = authorize_while_cancelled
    await events.handle(runtime, order_placed())
    payment = await _payment(runtime)
    assert payment.status == "VOIDED"
    [charge] = gateway.charges.values()
    assert charge.voided
    assert [e.type for e in recording_bus.published] == ["PaymentVoided"]
