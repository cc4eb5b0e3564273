"""menu's admin mutations through GraphQL: who may call them, and input validation."""

from __future__ import annotations

import pytest

from shared import demo_ids
from subgraphs.menu.demo import category_id, product_id, variant_id
from tests.conftest import bearer, gql

CREATE_PRODUCT = """
mutation($input: CreateProductInput!) {
  createProduct(input: $input) {
    product { id code name isPizza category { code } variants { code name price { amount } available }
              defaultToppings { amount topping { code } } }
  }
}"""
UPDATE_PRODUCT = """
mutation($input: UpdateProductInput!) {
  updateProduct(input: $input) { product { id name active variants { code price { amount } } } }
}"""
SET_AVAILABILITY = """
mutation($input: SetAvailabilityInput!) {
  setAvailability(input: $input) {
    storeId variant { code available } topping { code available }
  }
}"""
CREATE_COUPON = """
mutation($input: CreateCouponInput!) {
  createCoupon(input: $input) {
    coupon { code percentOff amountOff { amount } minimumSubtotal { amount } serviceMethods combinable endsAt }
  }
}"""
COUPONS = "{ coupons { code percentOff amountOff { amount } serviceMethods combinable } }"
MENU_PRODUCTS = """
query($storeId: ID!) {
  menu(storeId: $storeId) {
    categories { subcategories { products { code variants { code available } } } }
    toppings { code available }
  }
}"""

CALZONE = {
    "code": "CALZONE",
    "name": "Calzone",
    "categoryId": category_id("SPECIALTY"),
    "isPizza": True,
    "variants": [{"code": "CALZONE-12-HT", "price": 1199, "size": 12, "crust": "HAND_TOSSED"}],
    "defaultToppings": [
        {"toppingCode": "ROBUST_TOMATO"},
        {"toppingCode": "HAM", "amount": "EXTRA"},
    ],
}


def admin(settings) -> dict[str, str]:
    return bearer(settings, demo_ids.ADMIN_USER, "ADMIN")


def specialty_codes(body: dict) -> set[str]:
    return {
        p["code"] for p in body["data"]["menu"]["categories"][0]["subcategories"][0]["products"]
    }


@pytest.mark.parametrize(
    ("mutation", "variables"),
    [
        (CREATE_PRODUCT, {"input": CALZONE}),
        (UPDATE_PRODUCT, {"input": {"productId": product_id("PEPPERONI"), "active": False}}),
        (
            CREATE_COUPON,
            {"input": {"code": "HALF", "startsAt": "2026-01-01T00:00:00Z", "percentOff": 50}},
        ),
    ],
)
async def test_admin_mutations_need_an_admin(start_subgraph, settings, mutation, variables) -> None:
    menu = await start_subgraph("menu")
    anonymous = await gql(menu, mutation, variables)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    for role in ("CUSTOMER", "STAFF"):
        headers = bearer(settings, "usr_someone", role, store_id=demo_ids.STORE_DOWNTOWN)
        denied = await gql(menu, mutation, variables, headers=headers)
        assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert denied["data"] is None
    allowed = await gql(menu, mutation, variables, headers=admin(settings))
    assert "errors" not in allowed


async def test_created_product_joins_the_menu(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    body = await gql(menu, CREATE_PRODUCT, {"input": CALZONE}, headers=admin(settings))
    product = body["data"]["createProduct"]["product"]
    assert product["category"] == {"code": "SPECIALTY"}
    assert product["variants"] == [
        {
            "code": "CALZONE-12-HT",
            "name": '12" Hand Tossed',
            "price": {"amount": 1199},
            "available": True,
        }
    ]
    assert [(d["topping"]["code"], d["amount"]) for d in product["defaultToppings"]] == [
        ("ROBUST_TOMATO", "NORMAL"),
        ("HAM", "EXTRA"),
    ]
    listed = await gql(menu, MENU_PRODUCTS, {"storeId": demo_ids.STORE_EAST})
    assert "CALZONE" in specialty_codes(listed)


async def test_create_product_reports_the_faulty_field(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    bad = {**CALZONE, "variants": [{**CALZONE["variants"][0], "size": 13}]}
    body = await gql(menu, CREATE_PRODUCT, {"input": bad}, headers=admin(settings))
    assert body["errors"][0]["extensions"] == {"code": "INVALID_SIZE", "field": "variants[0].size"}
    taken = await gql(
        menu, CREATE_PRODUCT, {"input": {**CALZONE, "code": "PEPPERONI"}}, headers=admin(settings)
    )
    assert taken["errors"][0]["extensions"] == {"code": "CODE_TAKEN", "field": "code"}


async def test_failed_create_product_leaves_nothing_behind(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    bad = {**CALZONE, "defaultToppings": [{"toppingCode": "KALE"}]}
    body = await gql(menu, CREATE_PRODUCT, {"input": bad}, headers=admin(settings))
    assert body["errors"][0]["extensions"]["field"] == "defaultToppings[0].toppingCode"
    again = await gql(menu, CREATE_PRODUCT, {"input": CALZONE}, headers=admin(settings))
    assert again["data"]["createProduct"]["product"]["code"] == "CALZONE"


async def test_update_product_takes_it_off_the_menu_and_reprices(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    update = {
        "productId": product_id("HAWAIIAN"),
        "name": "Aloha Pizza",
        "active": False,
        "variantPrices": [{"variantId": variant_id("HAWAIIAN-16-HT"), "price": 2099}],
    }
    body = await gql(menu, UPDATE_PRODUCT, {"input": update}, headers=admin(settings))
    product = body["data"]["updateProduct"]["product"]
    assert (product["name"], product["active"]) == ("Aloha Pizza", False)
    assert {v["code"]: v["price"]["amount"] for v in product["variants"]}["HAWAIIAN-16-HT"] == 2099
    listed = await gql(menu, MENU_PRODUCTS, {"storeId": demo_ids.STORE_DOWNTOWN})
    assert "HAWAIIAN" not in specialty_codes(listed)


async def test_update_of_unknown_product_is_not_found(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    body = await gql(
        menu, UPDATE_PRODUCT, {"input": {"productId": "prd_nope"}}, headers=admin(settings)
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_set_availability_changes_one_store_only(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    variant = {
        "storeId": demo_ids.STORE_HYDE_PARK,
        "variantId": variant_id("WINGS-16"),
        "available": False,
    }
    body = await gql(menu, SET_AVAILABILITY, {"input": variant}, headers=admin(settings))
    assert body["data"]["setAvailability"] == {
        "storeId": demo_ids.STORE_HYDE_PARK,
        "variant": {"code": "WINGS-16", "available": False},
        "topping": None,
    }
    topping = {"storeId": demo_ids.STORE_HYDE_PARK, "toppingCode": "BACON", "available": False}
    await gql(menu, SET_AVAILABILITY, {"input": topping}, headers=admin(settings))
    hyde = (await gql(menu, MENU_PRODUCTS, {"storeId": demo_ids.STORE_HYDE_PARK}))["data"]["menu"]
    east = (await gql(menu, MENU_PRODUCTS, {"storeId": demo_ids.STORE_EAST}))["data"]["menu"]
    assert {t["code"]: t["available"] for t in hyde["toppings"]}["BACON"] is False
    assert {t["code"]: t["available"] for t in east["toppings"]}["BACON"] is True
    back = {**variant, "available": True}
    again = await gql(menu, SET_AVAILABILITY, {"input": back}, headers=admin(settings))
    assert again["data"]["setAvailability"]["variant"]["available"] is True


async def test_store_staff_set_availability_for_their_store_only(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    staff = bearer(settings, demo_ids.STAFF_DOWNTOWN, "STAFF", store_id=demo_ids.STORE_DOWNTOWN)
    own = {"storeId": demo_ids.STORE_DOWNTOWN, "toppingCode": "FETA", "available": False}
    assert "errors" not in await gql(menu, SET_AVAILABILITY, {"input": own}, headers=staff)
    other = {**own, "storeId": demo_ids.STORE_EAST}
    denied = await gql(menu, SET_AVAILABILITY, {"input": other}, headers=staff)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    denied = await gql(menu, SET_AVAILABILITY, {"input": own}, headers=customer)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_set_availability_needs_exactly_one_target(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    body = await gql(
        menu,
        SET_AVAILABILITY,
        {"input": {"storeId": demo_ids.STORE_EAST, "available": False}},
        headers=admin(settings),
    )
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "variantId"}


async def test_coupons_are_created_and_listed_by_admins(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    coupon = {
        "code": "pickup3",
        "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "2026-12-31T00:00:00+00:00",
        "amountOff": 300,
        "minimumSubtotal": 1200,
        "serviceMethods": ["CARRYOUT"],
        "combinable": True,
    }
    body = await gql(menu, CREATE_COUPON, {"input": coupon}, headers=admin(settings))
    created = body["data"]["createCoupon"]["coupon"]
    assert (created["code"], created["amountOff"], created["serviceMethods"]) == (
        "PICKUP3",
        {"amount": 300},
        ["CARRYOUT"],
    )
    listed = await gql(menu, COUPONS, headers=admin(settings))
    assert {c["code"] for c in listed["data"]["coupons"]} == {
        "PICKUP3",
        "WELCOME10",
        "CARRYOUT5",
        "MEDIUM2",
        "PARTY",
    }
    denied = await gql(menu, COUPONS, headers=bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER"))
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_create_coupon_reports_the_faulty_field(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    both = {"code": "BOTH", "startsAt": "2026-01-01T00:00:00Z", "percentOff": 10, "amountOff": 100}
    body = await gql(menu, CREATE_COUPON, {"input": both}, headers=admin(settings))
    assert body["errors"][0]["extensions"] == {"code": "INVALID_DISCOUNT", "field": "percentOff"}
