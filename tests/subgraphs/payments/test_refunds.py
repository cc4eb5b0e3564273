"""payments: refunds are idempotent per request (refunds.refund), and say what orders needs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.errors import Conflict, DomainError
from subgraphs.payments import events, refunds, service
from subgraphs.payments.gateway import GatewayTimeout
from subgraphs.payments.models import Payment, Refund
from tests.subgraphs.payments.conftest import ORDER_ID, order_placed, status_changed

STAFF_ID = "usr_staff"


@pytest.fixture
async def captured(runtime) -> None:
    """The test order, delivered: its 43.02 were captured."""
    await events.handle(runtime, order_placed())
    await events.handle(runtime, status_changed("DELIVERED", frm="OUT_FOR_DELIVERY"))


async def _refund(runtime, gateway, *, key: str, amount: int | None = None, reason=None):
    async with runtime.db.session() as session:
        payment = await service.payment_for_order(session=session, order_id=ORDER_ID)
        outcome = await refunds.refund(
            session=session,
            gateway=gateway,
            payment=payment,
            key=key,
            actor=STAFF_ID,
            amount=amount,
            reason=reason,
        )
        await session.commit()
    return outcome


async def _payment(runtime) -> Payment:
    async with runtime.db.session() as session:
        return await service.payment_for_order(session=session, order_id=ORDER_ID)


async def _refund_rows(runtime) -> int:
    async with runtime.db.session() as session:
        return await session.scalar(select(func.count(Refund.id)))


def _refunds_at_gateway(gateway) -> int:
    return sum(1 for op, _ in gateway.operations if op == "refund")


async def test_a_repeated_request_refunds_once(runtime, gateway, captured) -> None:
    key = refunds.request_key(idempotency_key="click-1", amount=1000, reason=None)
    first = await _refund(runtime, gateway, key=key, amount=1000)
    again = await _refund(runtime, gateway, key=key, amount=1000)
    assert (first.replayed, again.replayed) == (False, True)
    assert again.refund.id == first.refund.id and again.announcement is None
    assert (await _payment(runtime)).refunded_amount == 1000
    assert _refunds_at_gateway(gateway) == 1 and await _refund_rows(runtime) == 1


async def test_without_a_key_the_same_amount_and_reason_is_the_same_request() -> None:
    key = refunds.request_key(idempotency_key=None, amount=500, reason="Cold  pizza")
    assert key == refunds.request_key(idempotency_key=None, amount=500, reason="cold pizza")
    assert key != refunds.request_key(idempotency_key=None, amount=500, reason="Late")
    assert key != refunds.request_key(idempotency_key=None, amount=600, reason="Cold pizza")
    assert key != refunds.request_key(idempotency_key=None, amount=None, reason="Cold pizza")


async def test_two_requests_with_their_own_keys_both_refund(runtime, gateway, captured) -> None:
    for key in ("client:a", "client:b"):
        await _refund(runtime, gateway, key=key, amount=1000)
    assert (await _payment(runtime)).refunded_amount == 2000
    assert _refunds_at_gateway(gateway) == 2


async def test_a_key_reused_for_another_amount_is_refused(runtime, gateway, captured) -> None:
    await _refund(runtime, gateway, key="client:k", amount=1000)
    with pytest.raises(Conflict) as refused:
        await _refund(runtime, gateway, key="client:k", amount=2000)
    assert (refused.value.code, refused.value.field) == ("IDEMPOTENCY_KEY_REUSED", "idempotencyKey")
    assert (await _payment(runtime)).refunded_amount == 1000


@pytest.mark.parametrize("bad", ["", "   ", "k" * 201])
def test_a_client_key_has_1_to_200_characters(bad) -> None:
    with pytest.raises(DomainError) as refused:
        refunds.request_key(idempotency_key=bad, amount=None, reason=None)
    assert refused.value.code == "INVALID_IDEMPOTENCY_KEY"


async def test_a_retry_after_a_gateway_timeout_refunds_once(runtime, gateway, captured) -> None:
    refund = gateway.refund

    async def refund_then_time_out(**kwargs):
        await refund(**kwargs)  # the gateway paid back, but its answer was lost
        raise GatewayTimeout("no answer")

    gateway.refund = refund_then_time_out
    with pytest.raises(service.GatewayUnavailable):
        await _refund(runtime, gateway, key="client:t")
    assert (await _payment(runtime)).refunded_amount == 0 and await _refund_rows(runtime) == 0
    gateway.refund = refund
    outcome = await _refund(runtime, gateway, key="client:t")
    assert not outcome.replayed and (await _payment(runtime)).refunded_amount == 4302
    [charge] = gateway.charges.values()
    assert charge.refunded == 4302 and _refunds_at_gateway(gateway) == 1


async def test_a_full_refund_tells_orders_it_is_complete(runtime, gateway, captured) -> None:
    outcome = await _refund(runtime, gateway, key="client:all", reason="Burnt")
    payload = outcome.announcement.payload
    payment = await _payment(runtime)
    assert payment.status == "REFUNDED"
    assert payload["amount"] == payload["refundedAmount"] == {"amount": 4302, "currency": "USD"}
    assert payload["fullyRefunded"] is True
    assert payload["capturedAt"] == payment.captured_at.isoformat()
    assert payload["refundedAt"] == payment.refunded_at.isoformat()
    assert (payload["actor"], payload["reason"]) == (STAFF_ID, "Burnt")


async def test_a_partial_refund_is_not_complete(runtime, gateway, captured) -> None:
    outcome = await _refund(runtime, gateway, key="client:part", amount=302)
    assert outcome.announcement.payload["fullyRefunded"] is False
    assert outcome.announcement.payload["refundedAmount"]["amount"] == 302


async def test_a_refunded_payment_answers_a_repeated_request_with_its_refund(
    runtime, gateway, captured
) -> None:
    await _refund(runtime, gateway, key="client:all")
    again = await _refund(runtime, gateway, key="client:all")
    assert again.replayed and again.refund.amount == 4302


async def test_cancelling_a_captured_order_twice_refunds_once(
    runtime, recording_bus, gateway, captured
) -> None:
    await events.handle(runtime, status_changed("CANCELLED", frm="DELIVERED"))
    await events.handle(runtime, status_changed("CANCELLED", frm="DELIVERED"))
    assert _refunds_at_gateway(gateway) == 1
    [announced] = [e for e in recording_bus.published if e.type == "PaymentRefunded"]
    assert announced.payload["actor"] == "usr_x"  # who cancelled the order
    assert announced.payload["fullyRefunded"] is True


async def test_cash_refunds_are_idempotent_without_the_gateway(runtime, gateway) -> None:
    await events.handle(runtime, order_placed(method="CASH", token=None))
    await events.handle(runtime, status_changed("PICKED_UP", frm="READY_FOR_PICKUP"))
    await _refund(runtime, gateway, key="client:cash", amount=1000)
    await _refund(runtime, gateway, key="client:cash", amount=1000)
    assert (await _payment(runtime)).refunded_amount == 1000
    assert gateway.operations == []
