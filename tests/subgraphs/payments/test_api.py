"""payments through its GraphQL API: Order.payment / Order.invoice, staff capture and refund."""

from __future__ import annotations

import asyncio

import pytest

from shared import demo_ids
from subgraphs.payments import events
from subgraphs.payments.gateway import GatewayTimeout
from tests.conftest import bearer, gql
from tests.subgraphs.payments.conftest import ORDER_ID, order_placed

ORDER = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Order {
      id
      payment { status method amount { amount currency } refundedAmount { amount } authorizedAt capturedAt declineReason }
      invoice { number subtotal { amount } tax { amount } total { amount } lines { description quantity unitPrice { amount } total { amount } } }
    }
  }
}"""
CAPTURE = """
mutation($input: CapturePaymentInput!) {
  capturePayment(input: $input) { payment { status capturedAt } invoice { number total { amount } } }
}"""
REFUND = """
mutation($input: RefundPaymentInput!) {
  refundPayment(input: $input) { payment { status refundedAmount { amount } } }
}"""
REPS = {"r": [{"__typename": "Order", "id": ORDER_ID}]}


@pytest.fixture
async def payments(start_subgraph):
    """The payments subgraph with one authorized card payment of the demo customer."""
    client = await start_subgraph("payments")
    await events.handle(client.runtime, order_placed())
    return client


@pytest.fixture
def staff(settings) -> dict[str, str]:
    return bearer(settings, demo_ids.STAFF_DOWNTOWN, "STAFF", store_id=demo_ids.STORE_DOWNTOWN)


async def test_customer_sees_the_payment_of_their_order(payments, settings) -> None:
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    order = (await gql(payments, ORDER, REPS, headers=customer))["data"]["_entities"][0]
    assert order["payment"]["status"] == "AUTHORIZED"
    assert order["payment"]["amount"] == {"amount": 4302, "currency": "USD"}
    assert order["invoice"] is None  # issued at capture


async def test_strangers_see_no_payment(payments, settings) -> None:
    stranger = bearer(settings, "usr_stranger", "CUSTOMER")
    order = (await gql(payments, ORDER, REPS, headers=stranger))["data"]["_entities"][0]
    assert order == {"id": ORDER_ID, "payment": None, "invoice": None}


async def test_staff_capture_issues_the_invoice(payments, staff) -> None:
    body = await gql(payments, CAPTURE, {"input": {"orderId": ORDER_ID}}, headers=staff)
    captured = body["data"]["capturePayment"]
    assert captured["payment"]["status"] == "CAPTURED"
    assert captured["invoice"]["total"] == {"amount": 4302}
    again = await gql(payments, CAPTURE, {"input": {"orderId": ORDER_ID}}, headers=staff)
    assert again["errors"][0]["extensions"]["code"] == "INVALID_PAYMENT_STATE"
    order = (await gql(payments, ORDER, REPS, headers=staff))["data"]["_entities"][0]
    assert order["invoice"]["number"] == captured["invoice"]["number"]
    assert order["invoice"]["tax"] == {"amount": 305}


async def test_capture_and_refund_are_for_store_staff(payments, settings) -> None:
    for headers in (
        bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER"),
        bearer(settings, "usr_s2", "STAFF", store_id=demo_ids.STORE_EAST),
    ):
        body = await gql(payments, CAPTURE, {"input": {"orderId": ORDER_ID}}, headers=headers)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        body = await gql(payments, REFUND, {"input": {"orderId": ORDER_ID}}, headers=headers)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_refund_needs_a_capture_first(payments, staff) -> None:
    body = await gql(payments, REFUND, {"input": {"orderId": ORDER_ID}}, headers=staff)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_PAYMENT_STATE"


async def test_partial_refunds_add_up_to_the_amount_and_no_further(payments, staff) -> None:
    await gql(payments, CAPTURE, {"input": {"orderId": ORDER_ID}}, headers=staff)
    for amount in (0, -1, 4303):
        body = await gql(
            payments, REFUND, {"input": {"orderId": ORDER_ID, "amount": amount}}, headers=staff
        )
        assert body["errors"][0]["extensions"] == {"code": "INVALID_AMOUNT", "field": "amount"}
    part = await gql(
        payments, REFUND, {"input": {"orderId": ORDER_ID, "amount": 1000}}, headers=staff
    )
    assert part["data"]["refundPayment"]["payment"] == {
        "status": "CAPTURED",
        "refundedAmount": {"amount": 1000},
    }
    too_much = await gql(
        payments, REFUND, {"input": {"orderId": ORDER_ID, "amount": 3303}}, headers=staff
    )
    assert too_much["errors"][0]["extensions"]["code"] == "INVALID_AMOUNT"
    rest = await gql(payments, REFUND, {"input": {"orderId": ORDER_ID}}, headers=staff)
    assert rest["data"]["refundPayment"]["payment"] == {
        "status": "REFUNDED",
        "refundedAmount": {"amount": 4302},
    }
    gateway = events.gateway_of(payments.runtime)
    assert sum(c.refunded for c in gateway.charges.values()) == 4302


async def test_a_capture_the_gateway_did_not_answer_can_be_retried(payments, staff) -> None:
    gateway = events.gateway_of(payments.runtime)
    capture = gateway.capture

    async def time_out(**_):
        raise GatewayTimeout("no answer")

    gateway.capture = time_out
    body = await gql(payments, CAPTURE, {"input": {"orderId": ORDER_ID}}, headers=staff)
    assert body["errors"][0]["extensions"]["code"] == "GATEWAY_UNAVAILABLE"
    gateway.capture = capture
    body = await gql(payments, CAPTURE, {"input": {"orderId": ORDER_ID}}, headers=staff)
    assert body["data"]["capturePayment"]["payment"]["status"] == "CAPTURED"


REFUND_ONCE = """
mutation($input: RefundPaymentInput!) {
  refundPayment(input: $input) {
    payment { status refundedAmount { amount } }
    refund { id amount { amount } reason }
    replayed
  }
}"""


async def test_a_double_submitted_refund_pays_back_once(payments, staff) -> None:
    await gql(payments, CAPTURE, {"input": {"orderId": ORDER_ID}}, headers=staff)
    request = {"orderId": ORDER_ID, "amount": 1000, "reason": "Late", "idempotencyKey": "r-1"}
    first = (await gql(payments, REFUND_ONCE, {"input": request}, headers=staff))["data"]
    again = (await gql(payments, REFUND_ONCE, {"input": request}, headers=staff))["data"]
    assert first["refundPayment"]["replayed"] is False
    assert again["refundPayment"] == {
        "payment": {"status": "CAPTURED", "refundedAmount": {"amount": 1000}},
        "refund": first["refundPayment"]["refund"],
        "replayed": True,
    }
    gateway = events.gateway_of(payments.runtime)
    assert sum(c.refunded for c in gateway.charges.values()) == 1000


async def test_a_refund_submitted_twice_at_once_pays_back_once(payments, staff) -> None:
    await gql(payments, CAPTURE, {"input": {"orderId": ORDER_ID}}, headers=staff)
    request = {"input": {"orderId": ORDER_ID, "idempotencyKey": "r-twice"}}
    bodies = await asyncio.gather(
        *(gql(payments, REFUND_ONCE, request, headers=staff) for _ in range(2))
    )
    results = sorted(body["data"]["refundPayment"]["replayed"] for body in bodies)
    assert results == [False, True]
    gateway = events.gateway_of(payments.runtime)
    assert sum(c.refunded for c in gateway.charges.values()) == 4302


async def test_without_a_key_the_same_refund_asked_twice_is_one_refund(payments, staff) -> None:
    await gql(payments, CAPTURE, {"input": {"orderId": ORDER_ID}}, headers=staff)
    request = {"input": {"orderId": ORDER_ID, "amount": 700, "reason": "Cold pizza"}}
    for _ in range(2):
        body = await gql(payments, REFUND_ONCE, request, headers=staff)
    assert body["data"]["refundPayment"]["replayed"] is True
    assert body["data"]["refundPayment"]["payment"]["refundedAmount"] == {"amount": 700}


async def test_a_refund_key_reused_for_another_amount_is_a_conflict(payments, staff) -> None:
    await gql(payments, CAPTURE, {"input": {"orderId": ORDER_ID}}, headers=staff)
    request = {"orderId": ORDER_ID, "amount": 1000, "idempotencyKey": "k"}
    first = await gql(payments, REFUND_ONCE, {"input": request}, headers=staff)
    assert "errors" not in first
    reused = {**request, "amount": 2000}
    body = await gql(payments, REFUND_ONCE, {"input": reused}, headers=staff)
    assert body["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_KEY_REUSED"
