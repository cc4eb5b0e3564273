"""orders through its GraphQL API (start_subgraph), with menu and geo faked."""

from __future__ import annotations

import pytest

from shared import demo_ids
from tests.conftest import bearer, gql
from tests.subgraphs.orders.conftest import FakeCatalog

PLACE = """
mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order {
      id number status serviceMethod paymentMethod
      stages { stage actor }
      lines { productName quantity unitPrice { amount currency } lineTotal { amount } product { id }
              toppings { toppingCode placement amount } }
      price { subtotal { amount } deliveryFee { amount } tax { amount } tip { amount } total { amount currency } }
      customer { id } store { id } deliveryAddress { line1 location { lat lng } }
    }
  }
}"""
PRICE = """
mutation($input: PriceOrderInput!) {
  priceOrder(input: $input) { price { subtotal { amount } deliveryFee { amount } tax { amount } total { amount } } lines { productName } }
}"""
ORDER = "query($id: ID!) { order(id: $id) { id status } }"
ADVANCE = """
mutation($input: AdvanceOrderInput!) { advanceOrder(input: $input) { order { status stages { stage actor } } } }"""
CANCEL = """
mutation($input: CancelOrderInput!) { cancelOrder(input: $input) { order { status cancelReason } } }"""
ORDERS = (
    "query($f: OrderFilter) { orders(filter: $f, first: 10) { totalCount edges { node { id } } } }"
)
ENTITY_ORDERS = """
query($r: [_Any!]!) {
  _entities(representations: $r) {
    ... on User { orders(first: 1) { totalCount edges { cursor node { id } } pageInfo { hasNextPage } } }
    ... on Store { orders(status: PLACED) { totalCount } }
  }
}"""

CART = {
    "storeId": demo_ids.STORE_DOWNTOWN,
    "serviceMethod": "DELIVERY",
    "lines": [
        {
            "variantId": "var_pepperoni_14",
            "quantity": 2,
            "toppings": [{"toppingCode": "OLIVES", "placement": "LEFT", "amount": "EXTRA"}],
        }
    ],
    "deliveryAddress": {
        "line1": "1100 Congress Ave",
        "city": "Austin",
        "postcode": "78701",
        "location": {"lat": 30.2747, "lng": -97.7404},
    },
    "tip": 300,
}


def place_input(key: str = "checkout-1", **changes) -> dict:
    return {
        "input": {
            **CART,
            "paymentMethod": {"type": "CARD", "token": "tok_visa"},
            "idempotencyKey": key,
            **changes,
        }
    }


@pytest.fixture
async def orders(start_subgraph):
    """The orders subgraph with a fake menu and geo, without demo orders (lists are counted)."""
    client = await start_subgraph("orders", load_demo_data=False)
    client.runtime.extras["catalog"] = FakeCatalog()
    return client


@pytest.fixture
def customer(settings) -> dict[str, str]:
    return bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")


@pytest.fixture
def staff(settings) -> dict[str, str]:
    return bearer(settings, demo_ids.STAFF_DOWNTOWN, "STAFF", store_id=demo_ids.STORE_DOWNTOWN)


async def _place(orders, customer, key: str = "checkout-1") -> dict:
    body = await gql(orders, PLACE, place_input(key), headers=customer)
    assert "errors" not in body, body
    return body["data"]["placeOrder"]["order"]


async def test_price_order_returns_the_breakdown(orders, customer) -> None:
    body = await gql(orders, PRICE, {"input": CART}, headers=customer)
    price = body["data"]["priceOrder"]["price"]
    assert price == {
        "subtotal": {"amount": 3198},
        "deliveryFee": {"amount": 499},
        "tax": {"amount": 305},
        "total": {"amount": 3198 + 499 + 305 + 300},
    }


async def test_place_order_returns_the_order_with_stubs(orders, customer) -> None:
    order = await _place(orders, customer)
    assert order["status"] == "PLACED" and order["paymentMethod"] == "CARD"
    assert order["stages"] == [{"stage": "PLACED", "actor": demo_ids.CUSTOMER_USER}]
    assert order["customer"] == {"id": demo_ids.CUSTOMER_USER}
    assert order["store"] == {"id": demo_ids.STORE_DOWNTOWN}
    assert order["lines"][0]["product"] == {"id": "prd_pepperoni_14"}
    assert order["lines"][0]["toppings"] == [
        {"toppingCode": "OLIVES", "placement": "LEFT", "amount": "EXTRA"}
    ]
    assert order["price"]["total"] == {"amount": 4302, "currency": "USD"}
    assert order["deliveryAddress"]["location"] == {"lat": 30.2747, "lng": -97.7404}


async def test_repeated_idempotency_key_places_one_order_and_one_event(
    orders, customer, bus
) -> None:
    seen = []

    async def record(event) -> None:
        seen.append(event)

    bus.subscribe(group="test", types=["OrderPlaced"], handler=record)
    first = await _place(orders, customer, key="same")
    again = await _place(orders, customer, key="same")
    await bus.drain()
    assert again["id"] == first["id"] and again["number"] == first["number"]
    assert [e.payload["orderId"] for e in seen] == [first["id"]]


async def test_placing_needs_a_token(orders) -> None:
    body = await gql(orders, PLACE, place_input())
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_rule_errors_carry_code_and_field(orders, customer) -> None:
    body = await gql(orders, PLACE, place_input(lines=[]), headers=customer)
    assert body["errors"][0]["extensions"] == {"code": "EMPTY_ORDER", "field": "lines"}
    body = await gql(orders, PLACE, place_input(tip=-5), headers=customer)
    assert body["errors"][0]["extensions"] == {"code": "INVALID_TIP", "field": "tip"}


async def test_order_is_visible_to_its_customer_and_store_staff_only(
    orders, customer, staff, settings
) -> None:
    order = await _place(orders, customer)
    variables = {"id": order["id"]}
    assert (await gql(orders, ORDER, variables, headers=customer))["data"]["order"]["id"]
    assert (await gql(orders, ORDER, variables, headers=staff))["data"]["order"]["id"]
    stranger = bearer(settings, "usr_stranger", "CUSTOMER")
    denied = await gql(orders, ORDER, variables, headers=stranger)
    assert denied["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    other_staff = bearer(settings, "usr_s2", "STAFF", store_id=demo_ids.STORE_EAST)
    denied = await gql(orders, ORDER, variables, headers=other_staff)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_staff_advance_and_customers_cannot(orders, customer, staff) -> None:
    order = await _place(orders, customer)
    refused = await gql(orders, ADVANCE, {"input": {"orderId": order["id"]}}, headers=customer)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    moved = await gql(orders, ADVANCE, {"input": {"orderId": order["id"]}}, headers=staff)
    stages = moved["data"]["advanceOrder"]["order"]["stages"]
    assert stages[-1] == {"stage": "PREP", "actor": demo_ids.STAFF_DOWNTOWN}
    back = await gql(
        orders, ADVANCE, {"input": {"orderId": order["id"], "to": "PLACED"}}, headers=staff
    )
    assert back["errors"][0]["extensions"]["code"] == "INVALID_TRANSITION"


async def test_customer_cancel_publishes_status_changed(orders, customer, bus) -> None:
    seen = []

    async def record(event) -> None:
        seen.append(event)

    bus.subscribe(group="test", types=["OrderStatusChanged"], handler=record)
    order = await _place(orders, customer)
    body = await gql(
        orders, CANCEL, {"input": {"orderId": order["id"], "reason": "oops"}}, headers=customer
    )
    assert body["data"]["cancelOrder"]["order"] == {"status": "CANCELLED", "cancelReason": "oops"}
    await bus.drain()
    assert [(e.payload["from"], e.payload["to"]) for e in seen] == [("PLACED", "CANCELLED")]


async def test_order_lists_are_for_staff_and_the_customer_themselves(
    orders, customer, staff, settings
) -> None:
    await _place(orders, customer, key="a")
    await _place(orders, customer, key="b")
    listed = await gql(orders, ORDERS, {"f": {"status": "PLACED"}}, headers=staff)
    assert listed["data"]["orders"]["totalCount"] == 2
    denied = await gql(orders, ORDERS, {}, headers=customer)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other_store = await gql(orders, ORDERS, {"f": {"storeId": demo_ids.STORE_EAST}}, headers=staff)
    assert other_store["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    reps = [
        {"__typename": "User", "id": demo_ids.CUSTOMER_USER},
        {"__typename": "Store", "id": demo_ids.STORE_DOWNTOWN},
    ]
    body = await gql(orders, ENTITY_ORDERS, {"r": reps}, headers=staff)
    user_orders, store_orders = body["data"]["_entities"]
    assert user_orders["orders"]["totalCount"] == 2
    assert user_orders["orders"]["pageInfo"]["hasNextPage"] is True
    assert store_orders["orders"]["totalCount"] == 2
    mine = await gql(orders, ENTITY_ORDERS, {"r": reps[:1]}, headers=customer)
    assert mine["data"]["_entities"][0]["orders"]["totalCount"] == 2
    stranger = bearer(settings, "usr_stranger", "CUSTOMER")
    theirs = await gql(orders, ENTITY_ORDERS, {"r": reps[:1]}, headers=stranger)
    assert theirs["errors"][0]["extensions"]["code"] == "FORBIDDEN"


VALIDATE = """
mutation($input: ValidateOrderInput!) { validateOrder(input: $input) { valid lines { productName quantity } } }"""
MODIFY = """
mutation($input: ModifyOrderInput!) {
  modifyOrder(input: $input) { order { lines { productName quantity } price { subtotal { amount } tip { amount } total { amount } } } }
}"""
ORDER_ENTITY = (
    "query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id status } } }"
)


async def test_validate_order_accepts_a_good_cart_and_names_a_bad_line(orders, customer) -> None:
    body = await gql(orders, VALIDATE, {"input": CART}, headers=customer)
    assert body["data"]["validateOrder"]["valid"] is True
    bad = {**CART, "lines": [{"variantId": "var_nope", "quantity": 1}]}
    body = await gql(orders, VALIDATE, {"input": bad}, headers=customer)
    assert body["errors"][0]["extensions"] == {
        "code": "UNKNOWN_VARIANT",
        "field": "lines[0].variantId",
    }


async def test_modify_order_reprices_and_announces_the_new_total(orders, customer, bus) -> None:
    seen = []

    async def record(event) -> None:
        seen.append(event)

    bus.subscribe(group="test", types=["OrderModified"], handler=record)
    order = await _place(orders, customer)
    lines = [{"variantId": "var_cheese_12", "quantity": 1}]
    body = await gql(
        orders,
        MODIFY,
        {"input": {"orderId": order["id"], "lines": lines, "tip": 0}},
        headers=customer,
    )
    modified = body["data"]["modifyOrder"]["order"]
    assert modified["lines"] == [{"productName": "Cheese_12", "quantity": 1}]
    assert modified["price"]["subtotal"] == {"amount": 1199} and modified["price"]["tip"] == {
        "amount": 0
    }
    await bus.drain()
    assert [e.payload["total"]["amount"] for e in seen] == [modified["price"]["total"]["amount"]]


async def test_order_entity_resolves_only_for_those_who_may_see_it(
    orders, customer, settings
) -> None:
    order = await _place(orders, customer)
    reps = {"r": [{"__typename": "Order", "id": order["id"]}]}
    mine = await gql(orders, ORDER_ENTITY, reps, headers=customer)
    assert mine["data"]["_entities"] == [{"id": order["id"], "status": "PLACED"}]
    stranger = bearer(settings, "usr_stranger", "CUSTOMER")
    theirs = await gql(orders, ORDER_ENTITY, reps, headers=stranger)
    assert theirs["data"]["_entities"] == [None]
