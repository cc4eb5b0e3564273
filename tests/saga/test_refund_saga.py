"""delivered → captured → refunded by staff (a triple-clicked button) → order REFUNDED,
on PostgreSQL and Redis Streams: one refund at the gateway, one REFUNDED stage."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from shared import demo_ids
from subgraphs.payments.models import Refund
from subgraphs.payments.models import outbox as payments_outbox
from tests.conftest import bearer, gql
from tests.saga.conftest import Saga
from tests.saga.test_order_payment_saga import _all, _confirmed, _order, _payment, _place
from tests.subgraphs.orders.test_api import ADVANCE

REFUND = """
mutation($input: RefundPaymentInput!) {
  refundPayment(input: $input) { payment { status } replayed }
}"""


async def test_a_triple_clicked_staff_refund_pays_back_once_and_refunds_the_order(
    saga: Saga,
) -> None:
    staff = bearer(
        saga.runtimes["orders"].settings,
        demo_ids.STAFF_DOWNTOWN,
        "STAFF",
        store_id=demo_ids.STORE_DOWNTOWN,
    )
    order_id = await _place(saga, "refunded", "tok_visa")
    await saga.wait_until(lambda: _confirmed(saga, order_id), what="confirmed")
    delivered = {"input": {"orderId": order_id, "to": "DELIVERED"}}
    assert "errors" not in await gql(saga.clients["orders"], ADVANCE, delivered, headers=staff)

    async def captured() -> bool:
        payment = await _payment(saga, order_id)
        return payment is not None and payment.status == "CAPTURED"

    await saga.wait_until(captured, what="captured at delivery")
    request = {"input": {"orderId": order_id, "reason": "Wrong order", "idempotencyKey": "r"}}
    bodies = await asyncio.gather(
        *(gql(saga.clients["payments"], REFUND, request, headers=staff) for _ in range(3))
    )
    assert sorted(b["data"]["refundPayment"]["replayed"] for b in bodies) == [False, True, True]

    async def refunded() -> bool:
        return (await _order(saga, order_id)).status == "REFUNDED"

    await saga.wait_until(refunded, what="order refunded")
    await saga.wait_until(saga.settled, what="everything delivered and acknowledged")

    payment = await _payment(saga, order_id)
    assert (payment.status, payment.refunded_amount) == ("REFUNDED", payment.amount)
    assert sum(saga.gateway.executed("refund").values()) == 1
    assert len(await _all(saga, "payments", select(Refund.id))) == 1
    announced = await _all(
        saga,
        "payments",
        select(payments_outbox.c.id).where(payments_outbox.c.type == "PaymentRefunded"),
    )
    assert len(announced) == 1
    order = await _order(saga, order_id)
    assert [(s.stage, s.actor) for s in order.stages][-2:] == [
        ("DELIVERED", demo_ids.STAFF_DOWNTOWN),
        ("REFUNDED", demo_ids.STAFF_DOWNTOWN),
    ]
