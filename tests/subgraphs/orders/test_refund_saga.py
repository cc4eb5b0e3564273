"""The refund leg of the saga across subgraphs: payments pays back, orders ends REFUNDED.

orders and payments over their GraphQL APIs and the bus, menu and geo faked.
"""

from __future__ import annotations

from shared import demo_ids
from subgraphs.payments import events as payments_events
from tests.conftest import bearer, gql
from tests.subgraphs.orders.conftest import FakeCatalog
from tests.subgraphs.orders.test_api import ADVANCE, CANCEL, PLACE, place_input

ORDER = "query($id: ID!) { order(id: $id) { status stages { stage actor } } }"
CAPTURE = "mutation($id: ID!) { capturePayment(input: {orderId: $id}) { payment { status } } }"
REFUND = """
mutation($input: RefundPaymentInput!) {
  refundPayment(input: $input) { payment { status refundedAmount { amount } } replayed }
}"""


async def _start(start_subgraph, bus, settings):
    payments = await start_subgraph("payments")
    orders = await start_subgraph("orders")
    orders.runtime.extras["catalog"] = FakeCatalog()
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    placed = await gql(orders, PLACE, place_input(), headers=customer)
    order_id = placed["data"]["placeOrder"]["order"]["id"]
    await bus.drain()
    return orders, payments, order_id


def _staff(settings) -> dict[str, str]:
    return bearer(settings, demo_ids.STAFF_DOWNTOWN, "STAFF", store_id=demo_ids.STORE_DOWNTOWN)


async def _deliver(orders, order_id: str, bus, staff) -> None:
    variables = {"input": {"orderId": order_id, "to": "DELIVERED"}}
    assert "errors" not in await gql(orders, ADVANCE, variables, headers=staff)
    await bus.drain()  # payments captures


async def _order(orders, order_id: str, headers) -> dict:
    return (await gql(orders, ORDER, {"id": order_id}, headers=headers))["data"]["order"]


async def test_a_staff_refund_of_a_delivered_order_makes_it_refunded(
    start_subgraph, bus, settings
) -> None:
    orders, payments, order_id = await _start(start_subgraph, bus, settings)
    staff = _staff(settings)
    await _deliver(orders, order_id, bus, staff)
    refund = {"input": {"orderId": order_id, "reason": "Wrong pizza", "idempotencyKey": "r1"}}
    for _ in range(2):  # the staff member clicks twice
        body = await gql(payments, REFUND, refund, headers=staff)
        assert body["data"]["refundPayment"]["payment"]["status"] == "REFUNDED"
    await bus.drain()
    order = await _order(orders, order_id, staff)
    assert order["status"] == "REFUNDED"
    assert order["stages"][-2:] == [
        {"stage": "DELIVERED", "actor": demo_ids.STAFF_DOWNTOWN},
        {"stage": "REFUNDED", "actor": demo_ids.STAFF_DOWNTOWN},
    ]
    gateway = payments_events.gateway_of(payments.runtime)
    assert [op for op, _ in gateway.operations].count("refund") == 1


async def test_a_partial_refund_leaves_the_order_delivered(start_subgraph, bus, settings) -> None:
    orders, payments, order_id = await _start(start_subgraph, bus, settings)
    staff = _staff(settings)
    await _deliver(orders, order_id, bus, staff)
    refund = {"input": {"orderId": order_id, "amount": 500, "reason": "Cold fries"}}
    await gql(payments, REFUND, refund, headers=staff)
    await bus.drain()
    assert (await _order(orders, order_id, staff))["status"] == "DELIVERED"


async def test_a_cancelled_order_whose_money_was_taken_ends_refunded(
    start_subgraph, bus, settings
) -> None:
    orders, payments, order_id = await _start(start_subgraph, bus, settings)
    staff = _staff(settings)
    assert "errors" not in await gql(payments, CAPTURE, {"id": order_id}, headers=staff)
    cancel = {"input": {"orderId": order_id, "reason": "Oven broke"}}
    assert "errors" not in await gql(orders, CANCEL, cancel, headers=staff)
    await bus.drain()  # payments refunds the capture, orders hears it
    order = await _order(orders, order_id, staff)
    assert [s["stage"] for s in order["stages"]][-2:] == ["CANCELLED", "REFUNDED"]
    assert order["stages"][-1]["actor"] == demo_ids.STAFF_DOWNTOWN  # who cancelled


async def test_a_cancelled_order_whose_hold_was_voided_stays_cancelled(
    start_subgraph, bus, settings
) -> None:
    orders, _, order_id = await _start(start_subgraph, bus, settings)
    staff = _staff(settings)
    await gql(orders, CANCEL, {"input": {"orderId": order_id, "reason": "x"}}, headers=staff)
    await bus.drain()
    assert (await _order(orders, order_id, staff))["status"] == "CANCELLED"
