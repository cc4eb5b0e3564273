"""Coupons through menu: quoteCoupons on the demo menu, and updating or withdrawing coupons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared import demo_ids
from shared.errors import DomainError
from subgraphs.menu import service
from subgraphs.menu.coupons import BundleItem, Tier
from subgraphs.menu.demo import demo_id, variant_id
from subgraphs.menu.pricing import LineRequest, ToppingChoice
from tests.conftest import bearer, gql

QUOTE = """
query($codes: [String!]!, $lines: [OrderLineInput!]!, $method: ServiceMethod!, $at: DateTime,
      $storeId: ID! = "%s") {
  quoteCoupons(storeId: $storeId, serviceMethod: $method, codes: $codes, lines: $lines, at: $at) {
    subtotal { amount } total { amount currency } discounts { code description amount { amount } }
  }
}""".replace("%s", demo_ids.STORE_DOWNTOWN)
CREATE = """
mutation($input: CreateCouponInput!) {
  createCoupon(input: $input) {
    coupon { id code kind active tiers { minQuantity percentOff } tierCategory
             bundle { price { amount } items { categoryCode quantity size maxToppings } } }
  }
}"""
UPDATE = """
mutation($input: UpdateCouponInput!) {
  updateCoupon(input: $input) { coupon { code kind percentOff amountOff { amount } endsAt active } }
}"""
DEACTIVATE = """
mutation($id: ID!) { deactivateCoupon(input: {couponId: $id}) { coupon { code active } } }"""
PEPPERONI_12 = variant_id("PEPPERONI-12-HT")
MEAT_LOVERS_12 = variant_id("MEAT_LOVERS-12-HT")
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def lines(*items: tuple[str, int]) -> list[dict]:
    return [{"variantId": v, "quantity": q} for v, q in items]


def admin(settings) -> dict[str, str]:
    return bearer(settings, demo_ids.ADMIN_USER, "ADMIN")


@pytest.fixture
async def db(start_subgraph):
    menu = await start_subgraph("menu")
    return menu.runtime.db


# --- service, without GraphQL ---------------------------------------------------------


async def test_demo_bundle_counts_the_toppings_on_each_pizza(db) -> None:
    two = [LineRequest(PEPPERONI_12, 2)]
    async with db.session() as session:
        quote = await service.quote_coupons(
            session=session,
            store_id=demo_ids.STORE_DOWNTOWN,
            service_method="DELIVERY",
            codes=["medium2"],
            lines=two,
            now=NOW,
        )
        assert (quote.subtotal, quote.total) == (2598, 1000)
        # Pepperoni plus two more toppings is a 3-topping pizza: no longer in the bundle.
        loaded = LineRequest(
            PEPPERONI_12,
            2,
            (
                ToppingChoice("MUSHROOMS", "WHOLE", "NORMAL"),
                ToppingChoice("ONIONS", "WHOLE", "NORMAL"),
            ),
        )
        with pytest.raises(DomainError) as caught:
            await service.quote_coupons(
                session=session,
                store_id=demo_ids.STORE_DOWNTOWN,
                service_method="DELIVERY",
                codes=["MEDIUM2"],
                lines=[loaded],
                now=NOW,
            )
    assert (caught.value.code, caught.value.field) == ("COUPON_NOT_APPLICABLE", "codes[0]")


async def test_update_coupon_checks_the_result_as_a_whole(db) -> None:
    async with db.session() as session:
        welcome = await service.find_coupon(session=session, code="WELCOME10")
        with pytest.raises(DomainError) as caught:
            await service.update_coupon(
                session=session, coupon_id=welcome.id, ends_at=welcome.starts_at - timedelta(days=1)
            )
        assert (caught.value.code, caught.value.field) == ("INVALID_VALIDITY", "endsAt")
        changed = await service.update_coupon(
            session=session,
            coupon_id=welcome.id,
            offer=service.CouponOffer(tiers=[Tier(3, 5), Tier(6, 12)]),
        )
        assert (changed.kind, changed.percent_off, changed.tier_category) == (
            "TIERED",
            None,
            "PIZZA",
        )


async def test_create_coupon_refuses_an_unknown_bundle_category(db) -> None:
    offer = service.CouponOffer(bundle_price=999, bundle_items=[BundleItem("SOUPS", 1)])
    async with db.session() as session:
        with pytest.raises(DomainError) as caught:
            await service.create_coupon(session=session, code="SOUP", starts_at=NOW, offer=offer)
    assert (caught.value.code, caught.value.field) == (
        "INVALID_CATEGORY",
        "bundle.items[0].categoryCode",
    )


# --- GraphQL --------------------------------------------------------------------------


async def test_quote_coupons_lists_each_discount(start_subgraph) -> None:
    menu = await start_subgraph("menu")
    variables = {
        "codes": ["MEDIUM2", "carryout5"],
        "lines": lines((PEPPERONI_12, 2), (variant_id("COKE-2L"), 1)),
        "method": "CARRYOUT",
    }
    body = await gql(menu, QUOTE, variables)
    quote = body["data"]["quoteCoupons"]
    assert quote["subtotal"] == {"amount": 2598 + 349}
    assert [(d["code"], d["amount"]["amount"]) for d in quote["discounts"]] == [
        ("MEDIUM2", 1000),
        ("CARRYOUT5", 500),
    ]
    assert quote["total"] == {"amount": 1500, "currency": "USD"}


@pytest.mark.parametrize(
    ("codes", "method", "items", "code", "field"),
    [
        (["NOPE"], "DELIVERY", [(PEPPERONI_12, 2)], "COUPON_NOT_FOUND", "codes[0]"),
        (
            ["MEDIUM2", "CARRYOUT5"],
            "DELIVERY",
            [(PEPPERONI_12, 2)],
            "COUPON_WRONG_SERVICE_METHOD",
            "codes[1]",
        ),
        (
            ["WELCOME10"],
            "DELIVERY",
            [(variant_id("COKE-2L"), 1)],
            "COUPON_MINIMUM_NOT_MET",
            "codes[0]",
        ),
        (
            ["WELCOME10", "MEDIUM2"],
            "DELIVERY",
            [(PEPPERONI_12, 2)],
            "COUPONS_NOT_COMBINABLE",
            "codes[0]",
        ),
        (["PARTY"], "DELIVERY", [(PEPPERONI_12, 3)], "COUPON_NOT_APPLICABLE", "codes[0]"),
        (["MEDIUM2"], "DELIVERY", [(MEAT_LOVERS_12, 2)], "COUPON_NOT_APPLICABLE", "codes[0]"),
    ],
)
async def test_quote_coupons_errors_name_the_code(
    start_subgraph, codes, method, items, code, field
) -> None:
    menu = await start_subgraph("menu")
    body = await gql(menu, QUOTE, {"codes": codes, "lines": lines(*items), "method": method})
    assert body["errors"][0]["extensions"] == {"code": code, "field": field}
    assert body["data"] is None


async def test_quote_coupons_judges_validity_at_the_time_given(start_subgraph) -> None:
    menu = await start_subgraph("menu")
    variables = {"codes": ["MEDIUM2"], "lines": lines((PEPPERONI_12, 2)), "method": "DELIVERY"}
    early = await gql(menu, QUOTE, {**variables, "at": "2024-06-01T00:00:00Z"})
    assert early["errors"][0]["extensions"] == {"code": "COUPON_NOT_YET_VALID", "field": "codes[0]"}


async def test_party_tiers_through_graphql(start_subgraph) -> None:
    menu = await start_subgraph("menu")
    variables = {"codes": ["PARTY"], "lines": lines((PEPPERONI_12, 7)), "method": "DELIVERY"}
    quote = (await gql(menu, QUOTE, variables))["data"]["quoteCoupons"]
    assert quote["total"]["amount"] == (7 * 1299 * 15 + 50) // 100


async def test_admin_creates_bundle_and_tier_coupons(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    bundle = {
        "code": "DUO",
        "startsAt": "2026-01-01T00:00:00Z",
        "bundle": {
            "price": 1598,
            "items": [{"categoryCode": "pizza", "quantity": 2, "size": 12, "maxToppings": 2}],
        },
    }
    body = await gql(menu, CREATE, {"input": bundle}, headers=admin(settings))
    coupon = body["data"]["createCoupon"]["coupon"]
    assert coupon["kind"] == "BUNDLE" and coupon["active"] is True
    assert coupon["bundle"] == {
        "price": {"amount": 1598},
        "items": [{"categoryCode": "PIZZA", "quantity": 2, "size": 12, "maxToppings": 2}],
    }
    tiers = {
        "code": "BIG",
        "startsAt": "2026-01-01T00:00:00Z",
        "tiers": [{"minQuantity": 4, "percentOff": 10}],
    }
    tiered = (await gql(menu, CREATE, {"input": tiers}, headers=admin(settings)))["data"][
        "createCoupon"
    ]
    assert tiered["coupon"]["kind"] == "TIERED" and tiered["coupon"]["tierCategory"] == "PIZZA"
    both = {**tiers, "code": "BOTH", "percentOff": 5}
    refused = await gql(menu, CREATE, {"input": both}, headers=admin(settings))
    assert refused["errors"][0]["extensions"] == {"code": "INVALID_DISCOUNT", "field": "percentOff"}


async def test_update_and_deactivate_need_an_admin(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    coupon_id = demo_id("cpn", "WELCOME10")
    update = {"input": {"couponId": coupon_id, "amountOff": 300}}
    for role in ("CUSTOMER", "STAFF"):
        headers = bearer(settings, "usr_someone", role, store_id=demo_ids.STORE_DOWNTOWN)
        for mutation, variables in ((UPDATE, update), (DEACTIVATE, {"id": coupon_id})):
            denied = await gql(menu, mutation, variables, headers=headers)
            assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    changed = await gql(menu, UPDATE, update, headers=admin(settings))
    assert changed["data"]["updateCoupon"]["coupon"] == {
        "code": "WELCOME10",
        "kind": "AMOUNT",
        "percentOff": None,
        "amountOff": {"amount": 300},
        "endsAt": None,
        "active": True,
    }


async def test_a_deactivated_coupon_no_longer_applies(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    body = await gql(menu, DEACTIVATE, {"id": demo_id("cpn", "MEDIUM2")}, headers=admin(settings))
    assert body["data"]["deactivateCoupon"]["coupon"] == {"code": "MEDIUM2", "active": False}
    variables = {"codes": ["MEDIUM2"], "lines": lines((PEPPERONI_12, 2)), "method": "DELIVERY"}
    refused = await gql(menu, QUOTE, variables)
    assert refused["errors"][0]["extensions"] == {"code": "COUPON_EXPIRED", "field": "codes[0]"}
    again = {"input": {"couponId": demo_id("cpn", "MEDIUM2"), "active": True}}
    await gql(menu, UPDATE, again, headers=admin(settings))
    assert "errors" not in await gql(menu, QUOTE, variables)


async def test_update_unknown_coupon_is_not_found(start_subgraph, settings) -> None:
    menu = await start_subgraph("menu")
    body = await gql(menu, UPDATE, {"input": {"couponId": "cpn_nope"}}, headers=admin(settings))
    assert body["errors"][0]["extensions"] == {"code": "NOT_FOUND", "field": "couponId"}
