"""The golden path, end to end through the router over real HTTP, embedded and distributed.

Register and sign in, save an address, find the nearest store that delivers
there, read the menu, price a half-and-half pizza, place the order, then read it
back in ONE query spanning orders, users, menu, geo, payments and delivery.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.conftest import RunningStack

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken user { id name } }
}"""
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken refreshToken user { id name email } }
}"""
GEOCODE = """
query Geocode($q: String!) { geocode(query: $q) { line1 city postcode location { lat lng } } }
"""
ADD_ADDRESS = """
mutation AddAddress($input: AddAddressInput!) {
  addAddress(input: $input) { address { id isDefault location { lat lng } } }
}"""
STORES_NEAR = """
query StoresNear($location: GeoPointInput!) {
  storesNear(location: $location, serviceMethod: DELIVERY) {
    store { id name timeZone } distanceMeters canServe
  }
}"""
STORE_OPEN_AT = """
query StoreOpen($id: ID!, $at: DateTime!) { store(id: $id) { isOpen(serviceMethod: DELIVERY, at: $at) } }
"""
MENU = """
query Menu($storeId: ID!) {
  menu(storeId: $storeId) {
    categories {
      code name
      subcategories { code products { id code name variants { id code size crust available price { amount currency } } } }
      products { id code name defaultToppings { topping { code } amount } variants { id code available price { amount } } }
    }
    toppings { code name group wholeOnly prices { size price { amount } } }
  }
}"""
PRICE = """
mutation Price($input: PriceOrderInput!) {
  priceOrder(input: $input) {
    price {
      subtotal { amount currency } discounts { amount } deliveryFee { amount } surcharge { amount }
      tax { amount } tip { amount } total { amount currency }
    }
    lines { productName description quantity unitPrice { amount } lineTotal { amount } }
  }
}"""
PLACE = """
mutation Place($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id number status } } }
"""
ORDER_READ_BACK = """
query OrderReadBack($id: ID!) {
  order(id: $id) {
    number
    status
    stages { stage at actor }
    customer { name }
    store { name }
    lines { quantity description product { name category { name } } }
    price { total { amount currency } }
    payment { status amount { amount } }
    delivery { status eta { minMinutes maxMinutes } }
  }
}"""


async def call(
    client: httpx.AsyncClient,
    url: str,
    query: str,
    variables: dict[str, Any],
    token: str | None = None,
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await client.post(
        url, json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body["errors"]
    return body["data"]


def find_variant(menu: dict[str, Any], code: str) -> dict[str, Any]:
    for category in menu["categories"]:
        products = list(category["products"])
        for sub in category["subcategories"]:
            products.extend(sub["products"])
        for product in products:
            for variant in product["variants"]:
                if variant["code"] == code:
                    return {**variant, "product": product}
    raise AssertionError(f"variant {code} not on the menu")


async def next_open_evening(client: httpx.AsyncClient, url: str, store: dict[str, Any]) -> str:
    """A delivery slot tomorrow or later at 18:00 store time when the store is open."""
    zone = ZoneInfo(store["timeZone"])
    today = datetime.now(zone).date()
    for days in range(1, 7):
        local = datetime.combine(today + timedelta(days=days), datetime.min.time(), zone).replace(
            hour=18
        )
        at = local.astimezone(UTC).isoformat()
        data = await call(client, url, STORE_OPEN_AT, {"id": store["id"], "at": at})
        if data["store"]["isOpen"]:
            return at
    raise AssertionError("the store is closed every evening this week")


async def test_golden_path(stack: RunningStack) -> None:
    url = stack.router_url
    email = f"golden-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(timeout=30) as client:
        # Register a customer and log in.
        registered = await call(
            client,
            url,
            REGISTER,
            {"input": {"email": email, "password": "margherita-42", "name": "Gina Golden"}},
        )
        assert registered["register"]["user"]["name"] == "Gina Golden"
        login = await call(
            client, url, LOGIN, {"input": {"email": email, "password": "margherita-42"}}
        )
        token = login["login"]["accessToken"]
        assert login["login"]["user"]["email"] == email

        # Add a delivery address, geocoded offline by geo.
        geocoded = await call(client, url, GEOCODE, {"q": "1100 Congress Avenue"})
        place = geocoded["geocode"][0]
        assert place["postcode"] == "78701"
        added = await call(
            client,
            url,
            ADD_ADDRESS,
            {
                "input": {
                    "label": "Home",
                    "line1": place["line1"],
                    "city": place["city"],
                    "postcode": place["postcode"],
                    "location": place["location"],
                    "instructions": "Blue door",
                }
            },
            token,
        )
        assert added["addAddress"]["address"]["isDefault"] is True
        location = added["addAddress"]["address"]["location"]

        # Nearest store that delivers there.
        stores = (await call(client, url, STORES_NEAR, {"location": location}))["storesNear"]
        distances = [s["distanceMeters"] for s in stores]
        assert distances == sorted(distances)
        store = next(s["store"] for s in stores if s["canServe"])

        # The menu: categories -> products -> variants, and toppings.
        menu = (await call(client, url, MENU, {"storeId": store["id"]}))["menu"]
        assert {c["code"] for c in menu["categories"]} >= {"PIZZA", "SIDES", "DRINKS", "DESSERTS"}
        toppings = {t["code"]: t for t in menu["toppings"]}
        assert {"MUSHROOMS", "ONIONS"} <= toppings.keys()
        pepperoni = find_variant(menu, "PEPPERONI-14-HT")
        knots = find_variant(menu, "GARLIC_KNOTS-8")

        # Price a cart with a half-and-half pizza.
        scheduled_for = await next_open_evening(client, url, store)
        order_input = {
            "storeId": store["id"],
            "serviceMethod": "DELIVERY",
            "scheduledFor": scheduled_for,
            "deliveryAddress": {
                "line1": place["line1"],
                "city": place["city"],
                "postcode": place["postcode"],
                "location": location,
            },
            "tip": 300,
            "lines": [
                {
                    "variantId": pepperoni["id"],
                    "quantity": 2,
                    "toppings": [
                        {"toppingCode": "MUSHROOMS", "placement": "LEFT", "amount": "NORMAL"},
                        {"toppingCode": "ONIONS", "placement": "RIGHT", "amount": "EXTRA"},
                    ],
                    "instructions": {"bake": "WELL_DONE", "cut": "SQUARE"},
                },
                {"variantId": knots["id"], "quantity": 1},
            ],
        }
        priced = (await call(client, url, PRICE, {"input": order_input}, token))["priceOrder"]
        price = {k: v["amount"] for k, v in priced["price"].items()}
        assert priced["price"]["total"]["currency"] == "USD"
        assert price["total"] == (
            price["subtotal"]
            - price["discounts"]
            + price["deliveryFee"]
            + price["surcharge"]
            + price["tax"]
            + price["tip"]
        )
        assert price["tip"] == 300 and price["deliveryFee"] > 0 and price["tax"] > 0
        pizza_line = priced["lines"][0]
        assert (
            pizza_line["unitPrice"]["amount"] > pepperoni["price"]["amount"]
        )  # toppings beyond the defaults
        assert pizza_line["lineTotal"]["amount"] == 2 * pizza_line["unitPrice"]["amount"]
        assert price["subtotal"] == pizza_line["lineTotal"]["amount"] + knots["price"]["amount"]
        assert "left: mushrooms" in pizza_line["description"].lower()

        # Place the order.
        placed = (
            await call(
                client,
                url,
                PLACE,
                {
                    "input": {
                        **order_input,
                        "paymentMethod": {"type": "CARD", "token": "tok_visa"},
                        "idempotencyKey": uuid.uuid4().hex,
                    }
                },
                token,
            )
        )["placeOrder"]["order"]
        assert placed["status"] == "PLACED"

        # Read it back in one query across six subgraphs, once the saga has run.
        order: dict[str, Any] = {}
        for _ in range(100):
            order = (await call(client, url, ORDER_READ_BACK, {"id": placed["id"]}, token))["order"]
            if (
                order["payment"]
                and order["payment"]["status"] == "AUTHORIZED"
                and order["delivery"]
            ):
                break
            await asyncio.sleep(0.1)
        assert order["number"] == placed["number"]
        assert order["customer"]["name"] == "Gina Golden"  # users
        assert order["store"]["name"] == store["name"]  # geo
        assert [line["product"]["name"] for line in order["lines"]] == [  # menu
            pepperoni["product"]["name"],
            knots["product"]["name"],
        ]
        assert order["price"]["total"]["amount"] == price["total"]  # orders
        assert order["payment"] == {
            "status": "AUTHORIZED",
            "amount": {"amount": price["total"]},
        }  # payments
        assert order["delivery"]["status"] == "PENDING"  # delivery
        assert 0 < order["delivery"]["eta"]["minMinutes"] <= order["delivery"]["eta"]["maxMinutes"]
        assert order["status"] == "PLACED" and order["stages"][0]["stage"] == "PLACED"
