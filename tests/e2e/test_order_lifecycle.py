"""An order's whole life through the router: placed and paid, moved through every kitchen
stage by staff, dispatched to a driver, delivered, captured, invoiced (PDF) and notified."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from shared import demo_ids
from tests.e2e.conftest import RunningStack
from tests.e2e.test_golden_path import call, next_open_evening

LOGIN = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }"
STORE = "query($id: ID!) { store(id: $id) { id name timeZone } }"
VARIANT_ID = """
query($s: ID!) { menu(storeId: $s) { categories { subcategories { products { variants { id code } } } } } }
"""
PLACE = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { order { id status } } }"
ADVANCE = "mutation($i: AdvanceOrderInput!) { advanceOrder(input: $i) { order { status } } }"
COMPLETE = (
    "mutation($i: CompleteDeliveryInput!) { completeDelivery(input: $i) { delivery { status } } }"
)
TRACK = """
query($id: ID!) {
  order(id: $id) {
    status
    stages { stage actor }
    payment { status amount { amount } }
    invoice { number total { amount } pdfUrl }
    delivery { status driver { id firstName } }
  }
}"""
NOTIFICATIONS = "{ me { notifications(first: 50) { totalCount edges { node { kind orderId } } } } }"


async def login(client: httpx.AsyncClient, url: str, email: str) -> str:
    data = await call(
        client, url, LOGIN, {"i": {"email": email, "password": demo_ids.DEMO_PASSWORD}}
    )
    return data["login"]["accessToken"]


async def until(
    read: Callable[[], Awaitable[dict[str, Any]]], done: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Read until ``done`` holds (the saga runs asynchronously), at most about ten seconds."""
    value: dict[str, Any] = {}
    for _ in range(100):
        value = await read()
        if done(value):
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"never reached the expected state: {value}")


def find_variant(menu: Any, code: str) -> str:
    if isinstance(menu, dict):
        if menu.get("code") == code and "id" in menu:
            return menu["id"]
        menu = list(menu.values())
    if isinstance(menu, list):
        for item in menu:
            found = find_variant(item, code)
            if found:
                return found
    return ""


async def test_order_goes_from_placed_to_delivered_paid_and_invoiced(
    shared_embedded_stack: RunningStack,
) -> None:
    url = shared_embedded_stack.router_url
    async with httpx.AsyncClient(timeout=30) as client:
        customer = await login(client, url, "customer@pizza.example")
        staff = await login(client, url, "staff.downtown@pizza.example")
        store = (await call(client, url, STORE, {"id": demo_ids.STORE_DOWNTOWN}))["store"]
        menu = await call(client, url, VARIANT_ID, {"s": store["id"]})
        placed = await call(
            client,
            url,
            PLACE,
            {
                "i": {
                    "storeId": store["id"],
                    "serviceMethod": "DELIVERY",
                    "scheduledFor": await next_open_evening(client, url, store),
                    "deliveryAddress": {
                        "line1": "1100 Congress Ave",
                        "city": "Austin",
                        "postcode": "78701",
                        "location": {"lat": 30.2747, "lng": -97.7404},
                    },
                    "lines": [
                        {"variantId": find_variant(menu, "MARGHERITA-12-THIN"), "quantity": 1}
                    ],
                    "paymentMethod": {"type": "CARD", "token": "tok_visa"},
                    "idempotencyKey": uuid.uuid4().hex,
                }
            },
            customer,
        )
        order_id = placed["placeOrder"]["order"]["id"]

        async def track(token: str = customer) -> dict[str, Any]:
            return (await call(client, url, TRACK, {"id": order_id}, token))["order"]

        await until(track, lambda o: o["payment"] and o["payment"]["status"] == "AUTHORIZED")

        # The customer may not run the kitchen.
        response = await client.post(
            url,
            json={"query": ADVANCE, "variables": {"i": {"orderId": order_id}}},
            headers={"authorization": f"Bearer {customer}"},
        )
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

        for stage in ("PREP", "BAKE", "QUALITY_CHECK"):
            advanced = await call(client, url, ADVANCE, {"i": {"orderId": order_id}}, staff)
            assert advanced["advanceOrder"]["order"]["status"] == stage

        # Dispatch picks a driver of the store; the order goes out with them.
        out = await until(
            track, lambda o: o["status"] == "OUT_FOR_DELIVERY" and o["delivery"]["driver"]
        )
        driver = out["delivery"]["driver"]
        assert driver["id"] in demo_ids.DRIVERS
        assert demo_ids.DRIVERS[driver["id"]][1] == demo_ids.STORE_DOWNTOWN
        driver_token = await login(
            client, url, f"{driver['firstName'].lower()}.driver@pizza.example"
        )
        done = await call(client, url, COMPLETE, {"i": {"orderId": order_id}}, driver_token)
        assert done["completeDelivery"]["delivery"]["status"] == "DELIVERED"

        final = await until(
            track,
            lambda o: (
                o["status"] == "DELIVERED" and o["payment"]["status"] == "CAPTURED" and o["invoice"]
            ),
        )
        assert [s["stage"] for s in final["stages"]] == [
            "PLACED",
            "PREP",
            "BAKE",
            "QUALITY_CHECK",
            "OUT_FOR_DELIVERY",
            "DELIVERED",
        ]
        assert final["invoice"]["total"]["amount"] == final["payment"]["amount"]["amount"]

        pdf = await client.get(
            final["invoice"]["pdfUrl"], headers={"authorization": f"Bearer {customer}"}
        )
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        stranger = await client.get(final["invoice"]["pdfUrl"])
        assert stranger.status_code == 401

        notes = (await call(client, url, NOTIFICATIONS, {}, customer))["me"]["notifications"]
        kinds = [e["node"]["kind"] for e in notes["edges"] if e["node"]["orderId"] == order_id]
        # One in-app notification per event: placed, five stage changes, driver assigned.
        assert sorted(kinds) == sorted(
            ["OrderPlaced", "DriverAssigned"] + ["OrderStatusChanged"] * 5
        )
