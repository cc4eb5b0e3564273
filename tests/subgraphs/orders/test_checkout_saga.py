"""The checkout saga across subgraphs: orders ↔ payments over the bus.

The first tests fake menu and geo (their own tests cover them); the last one runs
the real menu, geo, payments and orders together for the demo customer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from shared import demo_ids
from tests.conftest import bearer, gql
from tests.subgraphs.orders.conftest import FakeCatalog
from tests.subgraphs.orders.test_api import PLACE, place_input

ORDER = "query($id: ID!) { order(id: $id) { id status confirmedAt stages { stage actor } } }"
PAYMENT = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on Order { payment { status amount { amount currency } } invoice { total { amount } } }
  }
}"""
ADVANCE = "mutation($id: ID!) { advanceOrder(input: {orderId: $id}) { order { status } } }"


async def _start(start_subgraph):
    payments = await start_subgraph("payments")
    orders = await start_subgraph("orders")
    orders.runtime.extras["catalog"] = FakeCatalog()
    return orders, payments


async def _payment(payments, order_id: str, headers) -> dict:
    body = await gql(
        payments, PAYMENT, {"r": [{"__typename": "Order", "id": order_id}]}, headers=headers
    )
    return body["data"]["_entities"][0]


async def test_placed_order_is_authorized_then_captured_on_delivery(
    start_subgraph, bus, settings
) -> None:
    orders, payments = await _start(start_subgraph)
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    staff = bearer(settings, demo_ids.STAFF_DOWNTOWN, "STAFF", store_id=demo_ids.STORE_DOWNTOWN)
    placed = await gql(orders, PLACE, place_input(), headers=customer)
    order_id = placed["data"]["placeOrder"]["order"]["id"]
    await bus.drain()
    assert (await _payment(payments, order_id, customer))["payment"]["status"] == "AUTHORIZED"
    order = (await gql(orders, ORDER, {"id": order_id}, headers=customer))["data"]["order"]
    assert order["confirmedAt"] is not None and order["status"] == "PLACED"
    for _ in range(5):
        await gql(orders, ADVANCE, {"id": order_id}, headers=staff)
    await bus.drain()
    paid = await _payment(payments, order_id, customer)
    assert paid["payment"] == {"status": "CAPTURED", "amount": {"amount": 4302, "currency": "USD"}}
    assert paid["invoice"] == {"total": {"amount": 4302}}


async def test_declined_card_cancels_the_order(start_subgraph, bus, settings) -> None:
    orders, payments = await _start(start_subgraph)
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    variables = place_input(paymentMethod={"type": "CARD", "token": "tok_chargeDeclined"})
    placed = await gql(orders, PLACE, variables, headers=customer)
    order_id = placed["data"]["placeOrder"]["order"]["id"]
    await bus.drain()
    order = (await gql(orders, ORDER, {"id": order_id}, headers=customer))["data"]["order"]
    assert order["status"] == "CANCELLED"
    assert order["stages"][-1] == {"stage": "CANCELLED", "actor": "payments"}
    assert (await _payment(payments, order_id, customer))["payment"]["status"] == "DECLINED"


async def test_customer_cancel_voids_the_authorization(start_subgraph, bus, settings) -> None:
    orders, payments = await _start(start_subgraph)
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    placed = await gql(orders, PLACE, place_input(), headers=customer)
    order_id = placed["data"]["placeOrder"]["order"]["id"]
    await bus.drain()
    cancel = 'mutation($id: ID!) { cancelOrder(input: {orderId: $id, reason: "x"}) { order { status } } }'
    await gql(orders, cancel, {"id": order_id}, headers=customer)
    await bus.drain()
    assert (await _payment(payments, order_id, customer))["payment"]["status"] == "VOIDED"


async def test_demo_customer_orders_from_the_real_menu_and_geo(
    start_subgraph, bus, settings
) -> None:
    from subgraphs.menu.demo import variant_id

    await start_subgraph("menu")
    await start_subgraph("geo")
    payments = await start_subgraph("payments")
    orders = await start_subgraph("orders")
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    variables = place_input(
        storeId=demo_ids.STORE_DOWNTOWN,
        lines=[{"variantId": variant_id("PEPPERONI-14-HT"), "quantity": 1}],
        tip=200,
    )
    placed = await gql(orders, PLACE, variables, headers=customer)
    if placed.get("errors") and placed["errors"][0]["extensions"]["code"] == "STORE_CLOSED":
        # Outside the demo store's hours: schedule it for tomorrow evening instead.
        local = datetime.now(ZoneInfo(demo_ids.TIME_ZONE)) + timedelta(days=1)
        evening = local.replace(hour=18, minute=0, second=0, microsecond=0)
        variables["input"]["scheduledFor"] = evening.isoformat()
        placed = await gql(orders, PLACE, variables, headers=customer)
    assert "errors" not in placed, placed
    order = placed["data"]["placeOrder"]["order"]
    assert order["lines"][0]["productName"] == "Pepperoni Pizza"
    price = order["price"]
    assert price["subtotal"]["amount"] == 1499 and price["deliveryFee"]["amount"] > 0
    assert price["total"]["amount"] == (
        price["subtotal"]["amount"]
        + price["deliveryFee"]["amount"]
        + price["tax"]["amount"]
        + price["tip"]["amount"]
    )
    await bus.drain()
    payment = (await _payment(payments, order["id"], customer))["payment"]
    assert payment == {"status": "AUTHORIZED", "amount": price["total"]}
