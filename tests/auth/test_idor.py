"""Insecure direct object references, through the router of the embedded stack.

Alice owns an address, two orders (with their payment, invoice, delivery and
notifications); Bob, another customer, knows every id and tries to read and change each of
them; staff of another store try her orders. Every attempt fails without leaking data.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from shared import demo_ids
from tests.auth.conftest import Caller, new_customer, sign_in
from tests.e2e.test_golden_path import MENU, find_variant, next_open_evening

ADD_ADDRESS = """
mutation($input: AddAddressInput!) { addAddress(input: $input) { address { id } } }
"""
PLACE = """
mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } } }
"""
ORDER = """
query($id: ID!) {
  order(id: $id) {
    id number customer { id email }
    payment { id status } invoice { number }
    delivery { id status } review { id }
  }
}"""
PAYMENT = "query($orderId: ID!) { payment(orderId: $orderId) { id status amount { amount } } }"
MY_NOTIFICATIONS = "{ me { notifications(first: 10) { edges { node { id title } } } } }"
USER = """
query($id: ID!) {
  user(id: $id) {
    email phone addresses { id line1 }
    orders(first: 5) { edges { node { id } } }
    notifications(first: 5) { edges { node { id } } }
  }
}"""
ORDERS_OF = """
query($customerId: ID!) { orders(filter: {customerId: $customerId}) { edges { node { id } } } }
"""
UPDATE_ADDRESS = """
mutation($input: UpdateAddressInput!) { updateAddress(input: $input) { address { id line1 } } }
"""
REMOVE_ADDRESS = """
mutation($id: ID!) { removeAddress(input: {addressId: $id}) { __typename } }
"""
DEFAULT_ADDRESS = """
mutation($id: ID!) { setDefaultAddress(input: {addressId: $id}) { address { id } } }
"""
MODIFY_ORDER = """
mutation($id: ID!) { modifyOrder(input: {orderId: $id, tip: 0}) { order { id } } }
"""
CANCEL_ORDER = """
mutation($id: ID!) { cancelOrder(input: {orderId: $id, reason: "mine now"}) { order { id status } } }
"""
MARK_READ = """
mutation($id: ID!) { markNotificationRead(input: {notificationId: $id}) { __typename } }
"""
POST_REVIEW = """
mutation($id: ID!) { postReview(input: {orderId: $id, stars: 1, text: "awful"}) { review { id } } }
"""
COMPLETE_DELIVERY = """
mutation($id: ID!) { completeDelivery(input: {orderId: $id}) { delivery { id status } } }
"""
CAPTURE = "mutation($id: ID!) { capturePayment(input: {orderId: $id}) { __typename } }"
REFUND = """
mutation($id: ID!) { refundPayment(input: {orderId: $id}) { __typename } }
"""
DENIED = {"NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED", "UNAUTHORIZED_FIELD_OR_TYPE"}


@dataclass
class World:
    alice: Caller
    bob: Caller
    staff_downtown: Caller
    address_id: str
    delivery_order: dict[str, Any]
    carryout_order_id: str
    notification_ids: list[str]
    payments_url: str


def assert_denied(body: dict[str, Any], *, leaked: tuple[str, ...] = ()) -> None:
    """Refused with a denial code, and none of ``leaked`` appears in the answer."""
    assert body.get("errors"), body
    assert {e.get("extensions", {}).get("code") for e in body["errors"]} <= DENIED, body
    text = str(body.get("data"))
    for value in leaked:
        assert value not in text


async def _order_input(caller: Caller, store_id: str, service_method: str, address: dict) -> dict:
    store = {"id": store_id, "timeZone": demo_ids.TIME_ZONE}
    menu = (await caller.data(MENU, {"storeId": store_id}))["menu"]
    variant = find_variant(menu, "PEPPERONI-14-HT")
    order_input: dict[str, Any] = {
        "storeId": store_id,
        "serviceMethod": service_method,
        "scheduledFor": await next_open_evening(caller.client, caller.url, store),
        "lines": [{"variantId": variant["id"], "quantity": 1}],
        "paymentMethod": {"type": "CARD", "token": "tok_visa"},
        "idempotencyKey": uuid.uuid4().hex,
    }
    if service_method == "DELIVERY":
        order_input["deliveryAddress"] = address
    return order_input


async def _eventually(fetch, ready, attempts: int = 100) -> Any:
    value = None
    for _ in range(attempts):
        value = await fetch()
        if ready(value):
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"not ready: {value}")


@pytest.fixture(scope="module")
async def world(auth_stack) -> World:
    url = auth_stack.router_url
    client = httpx.AsyncClient(timeout=30)
    alice = await new_customer(client, url, "Alice")
    bob = await new_customer(client, url, "Bob")
    staff = await sign_in(client, url, "staff.downtown@pizza.example", demo_ids.DEMO_PASSWORD)
    address = {
        "line1": "1100 Congress Ave",
        "city": "Austin",
        "postcode": "78701",
        "location": {"lat": 30.2747, "lng": -97.7404},
    }
    added = await alice.data(ADD_ADDRESS, {"input": {"label": "Home", **address}})
    delivery_input = await _order_input(alice, demo_ids.STORE_DOWNTOWN, "DELIVERY", address)
    delivery_id = (await alice.data(PLACE, {"input": delivery_input}))["placeOrder"]["order"]["id"]
    carryout_input = await _order_input(alice, demo_ids.STORE_SOUTH_LAMAR, "CARRYOUT", address)
    carryout_id = (await alice.data(PLACE, {"input": carryout_input}))["placeOrder"]["order"]["id"]
    order = await _eventually(
        lambda: alice.data(ORDER, {"id": delivery_id}),
        lambda d: d["order"]["payment"] and d["order"]["delivery"],
    )
    admin = await sign_in(client, url, "admin@pizza.example", demo_ids.DEMO_PASSWORD)
    await admin.gql(CAPTURE, {"id": delivery_id})
    order = await alice.data(ORDER, {"id": delivery_id})
    notifications = await _eventually(
        lambda: alice.data(MY_NOTIFICATIONS),
        lambda d: d["me"]["notifications"]["edges"],
    )
    yield World(
        alice=alice,
        bob=bob,
        staff_downtown=staff,
        address_id=added["addAddress"]["address"]["id"],
        delivery_order=order["order"],
        carryout_order_id=carryout_id,
        notification_ids=[e["node"]["id"] for e in notifications["me"]["notifications"]["edges"]],
        payments_url=auth_stack.subgraph_urls["payments"].removesuffix("/graphql"),
    )
    await client.aclose()


async def test_the_owner_reaches_every_entity(world: World) -> None:
    """The baseline the attacks are measured against."""
    order = world.delivery_order
    assert order["customer"]["id"] == world.alice.user_id
    assert order["payment"]["id"] and order["delivery"]["id"]
    assert world.notification_ids


async def test_another_customer_cannot_read_the_account_addresses_orders_or_notifications(
    world: World,
) -> None:
    body = await world.bob.gql(USER, {"id": world.alice.user_id})
    assert body["data"]["user"] is None
    assert_denied(body, leaked=(world.address_id, world.delivery_order["id"]))


async def test_another_customer_cannot_change_an_address(world: World) -> None:
    for query, variables in (
        (UPDATE_ADDRESS, {"input": {"addressId": world.address_id, "line1": "Bob's street"}}),
        (REMOVE_ADDRESS, {"id": world.address_id}),
        (DEFAULT_ADDRESS, {"id": world.address_id}),
    ):
        assert_denied(await world.bob.gql(query, variables), leaked=("1100 Congress",))
    user = await world.alice.data("{ me { addresses { id line1 } } }")
    assert user["me"]["addresses"] == [{"id": world.address_id, "line1": "1100 Congress Ave"}]


async def test_another_customer_cannot_read_an_order_or_what_hangs_off_it(world: World) -> None:
    order = world.delivery_order
    body = await world.bob.gql(ORDER, {"id": order["id"]})
    assert body["data"]["order"] is None
    assert_denied(body, leaked=(order["number"], order["payment"]["id"], order["delivery"]["id"]))


async def test_another_customer_cannot_list_someone_elses_orders(world: World) -> None:
    body = await world.bob.gql(ORDERS_OF, {"customerId": world.alice.user_id})
    assert_denied(body, leaked=(world.delivery_order["id"],))


async def test_another_customer_cannot_change_or_cancel_an_order(world: World) -> None:
    for query in (MODIFY_ORDER, CANCEL_ORDER):
        assert_denied(await world.bob.gql(query, {"id": world.delivery_order["id"]}))
    again = await world.alice.data(ORDER, {"id": world.delivery_order["id"]})
    assert again["order"]["id"] == world.delivery_order["id"]


async def test_another_customer_cannot_read_or_move_a_payment(world: World) -> None:
    order_id = world.delivery_order["id"]
    body = await world.bob.gql(PAYMENT, {"orderId": order_id})
    # payments answers null for someone else's order: no error, no oracle, no data.
    assert body["data"] == {"payment": None}
    for query in (CAPTURE, REFUND):
        assert_denied(await world.bob.gql(query, {"id": order_id}))


async def test_another_customer_cannot_download_an_invoice(world: World) -> None:
    invoice = world.delivery_order["invoice"]
    assert invoice is not None, "capturing the payment issues the invoice"
    url = f"{world.payments_url}/invoices/{invoice['number']}.pdf"
    async with httpx.AsyncClient() as http:
        owner = await http.get(url, headers={"authorization": f"Bearer {world.alice.token}"})
        stranger = await http.get(url, headers={"authorization": f"Bearer {world.bob.token}"})
        anonymous = await http.get(url)
        forged = await http.get(url, headers={"authorization": "Bearer eyJhbGciOiJub25lIn0.e30."})
    assert owner.status_code == 200 and owner.content.startswith(b"%PDF")
    assert stranger.status_code in (403, 404)
    assert anonymous.status_code == 401 and forged.status_code == 401
    assert not stranger.content.startswith(b"%PDF")


async def test_another_customer_cannot_complete_a_delivery(world: World) -> None:
    body = await world.bob.gql(COMPLETE_DELIVERY, {"id": world.delivery_order["id"]})
    assert_denied(body, leaked=(world.delivery_order["delivery"]["id"],))


async def test_another_customer_cannot_review_an_order(world: World) -> None:
    assert_denied(await world.bob.gql(POST_REVIEW, {"id": world.delivery_order["id"]}))


async def test_another_customer_cannot_mark_a_notification_read(world: World) -> None:
    for notification_id in world.notification_ids:
        assert_denied(await world.bob.gql(MARK_READ, {"id": notification_id}))
    mine = await world.alice.data("{ me { notifications(first: 10) { edges { node { read } } } } }")
    assert not any(e["node"]["read"] for e in mine["me"]["notifications"]["edges"])


async def test_staff_read_only_their_own_stores_orders(world: World) -> None:
    own_store = await world.staff_downtown.gql(ORDER, {"id": world.delivery_order["id"]})
    assert own_store["data"]["order"]["id"] == world.delivery_order["id"]
    other_store = await world.staff_downtown.gql(ORDER, {"id": world.carryout_order_id})
    assert other_store["data"]["order"] is None
    assert_denied(other_store)
    listing = await world.staff_downtown.gql(
        "query($s: ID!) { orders(filter: {storeId: $s}) { edges { node { id } } } }",
        {"s": demo_ids.STORE_SOUTH_LAMAR},
    )
    assert_denied(listing, leaked=(world.carryout_order_id,))


async def test_staff_cannot_read_a_customers_notifications(world: World) -> None:
    body = await world.staff_downtown.gql(
        "query($id: ID!) { order(id: $id) { customer { notifications(first: 5) { edges { node { id } } } } } }",
        {"id": world.delivery_order["id"]},
    )
    assert_denied(body, leaked=tuple(world.notification_ids))
