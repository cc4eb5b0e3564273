"""orders applies coupons: menu's quote becomes the breakdown's discounts, kept with the order.

Service-level tests use a fake menu that knows a few codes; the last ones run the real
menu and geo with the demo coupons.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared import demo_ids
from shared.errors import DomainError
from subgraphs.orders import coupons, service
from subgraphs.orders.catalog import CartLine
from subgraphs.orders.coupons import AppliedCoupon
from subgraphs.orders.pricing import compute_tax, price_cart
from tests.conftest import bearer, gql
from tests.subgraphs.orders.conftest import CUSTOMER, NOW, FakeCatalog, carryout_cart, delivery_cart
from tests.subgraphs.orders.test_api import place_input

VISA = service.PaymentChoice(type="CARD", token="tok_visa")
OFFERS = {"TAKE5": 500, "HALF": None, "HUGE": 100_000}
"""Fake menu coupons: cents off, or None for 50% of the subtotal."""


@dataclass
class CouponCatalog(FakeCatalog):
    """The fake menu and geo, plus quoteCoupons over :data:`OFFERS`."""

    coupon_calls: list[tuple[list[str], datetime]] = field(default_factory=list)

    async def quote_coupons(self, *, store_id, service_method, codes, lines, at):
        self.coupon_calls.append((codes, at))
        subtotal = sum(self.prices[line.variant_id] * line.quantity for line in lines)
        applied = []
        for i, code in enumerate(codes):
            if code not in OFFERS:
                raise DomainError("No such coupon.", code="COUPON_NOT_FOUND", field=f"codes[{i}]")
            off = OFFERS[code]
            amount = subtotal // 2 if off is None else min(off, subtotal)
            applied.append(AppliedCoupon(code, f"{code} offer", amount, "USD"))
        return applied


@pytest.fixture
def menu() -> CouponCatalog:
    return CouponCatalog()


async def test_discount_is_taken_before_tax(menu) -> None:
    priced = await price_cart(catalog=menu, cart=delivery_cart(coupon_code="take5"), now=NOW)
    price = priced.price
    assert (price.subtotal, price.discounts) == (3198, 500)
    assert price.tax == compute_tax(3198 - 500 + 499, 825)
    assert price.total == 3198 - 500 + 499 + price.tax
    assert [(c.code, c.amount) for c in priced.coupons] == [("TAKE5", 500)]
    assert menu.coupon_calls == [(["TAKE5"], NOW)]


async def test_no_code_asks_menu_nothing(menu) -> None:
    priced = await price_cart(catalog=menu, cart=delivery_cart(), now=NOW)
    assert priced.price.discounts == 0 and priced.coupons == []
    assert menu.coupon_calls == []


async def test_coupon_code_and_coupon_codes_combine_once_each(menu) -> None:
    cart = delivery_cart(coupon_code="TAKE5", coupon_codes=(" half ", "take5"))
    priced = await price_cart(catalog=menu, cart=cart, now=NOW)
    assert menu.coupon_calls[0][0] == ["TAKE5", "HALF"]
    assert priced.price.discounts == 500 + 3198 // 2


async def test_discounts_never_exceed_the_subtotal(menu) -> None:
    priced = await price_cart(catalog=menu, cart=carryout_cart(coupon_code="HUGE"), now=NOW)
    assert priced.price.discounts == priced.price.subtotal == 1199
    assert priced.price.tax == 0 and priced.price.total == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"coupon_code": "NOPE"}, "couponCode"),
        ({"coupon_code": "TAKE5", "coupon_codes": ("NOPE",)}, "couponCodes[0]"),
        ({"coupon_codes": ("HALF", "NOPE")}, "couponCodes[1]"),
    ],
)
async def test_menu_errors_name_the_field_the_customer_sent(menu, changes, field) -> None:
    with pytest.raises(DomainError) as caught:
        await price_cart(catalog=menu, cart=delivery_cart(**changes), now=NOW)
    assert (caught.value.code, caught.value.field) == ("COUPON_NOT_FOUND", field)


def test_at_most_five_codes() -> None:
    with pytest.raises(DomainError) as caught:
        coupons.code_inputs("A1", ["B1", "C1", "D1", "E1", "F1"])
    assert (caught.value.code, caught.value.field) == ("TOO_MANY_COUPONS", "couponCodes")


async def test_placed_order_keeps_its_coupons_and_modify_reapplies_them(session, menu) -> None:
    placement = await service.place_order(
        session=session,
        catalog=menu,
        principal=CUSTOMER,
        cart=delivery_cart(coupon_code="TAKE5", coupon_codes=("HALF",)),
        payment=VISA,
        idempotency_key="coupon-1",
        now=NOW,
    )
    await session.commit()
    order = placement.order
    assert order.coupon_code == "TAKE5" and order.discounts == 500 + 3198 // 2
    kept = await coupons.order_coupons(session=session, order_id=order.id)
    assert [(c.code, c.amount) for c in kept] == [("TAKE5", 500), ("HALF", 1599)]
    later = NOW + timedelta(minutes=5)
    await service.modify_order(
        session=session,
        catalog=menu,
        principal=CUSTOMER,
        order_id=order.id,
        lines=[CartLine(variant_id="var_pepperoni_14", quantity=4)],
        now=later,
    )
    await session.commit()
    # Validity is judged at the time the order was placed, not at the change.
    assert menu.coupon_calls[-1] == (["TAKE5", "HALF"], NOW)
    assert order.discounts == 500 + (4 * 1599) // 2
    kept = await coupons.order_coupons(session=session, order_id=order.id)
    assert [c.amount for c in kept] == [500, 3198]


# --- through GraphQL ---------------------------------------------------------------------

PRICE = """
mutation($input: PriceOrderInput!) {
  priceOrder(input: $input) {
    price { subtotal { amount } discounts { amount } tax { amount } total { amount } }
    coupons { code description amount { amount currency } }
  }
}"""
PLACE = """
mutation($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order { id price { discounts { amount } } }
    coupons { code amount { amount } }
  }
}"""


async def test_place_order_lists_the_coupons_applied(start_subgraph, settings) -> None:
    orders = await start_subgraph("orders")
    orders.runtime.extras["catalog"] = CouponCatalog()
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    variables = place_input(couponCode="take5")
    body = await gql(orders, PLACE, variables, headers=customer)
    assert body["data"]["placeOrder"]["coupons"] == [{"code": "TAKE5", "amount": {"amount": 500}}]
    again = await gql(orders, PLACE, variables, headers=customer)
    assert again["data"]["placeOrder"] == body["data"]["placeOrder"]


def _tomorrow_evening() -> str:
    local = datetime.now(ZoneInfo(demo_ids.TIME_ZONE)) + timedelta(days=1)
    return local.replace(hour=18, minute=0, second=0, microsecond=0).isoformat()


async def _real_stack(start_subgraph):
    from subgraphs.menu.demo import variant_id

    await start_subgraph("menu")
    await start_subgraph("geo")
    orders = await start_subgraph("orders")
    cart = {
        "storeId": demo_ids.STORE_DOWNTOWN,
        "serviceMethod": "CARRYOUT",
        "lines": [{"variantId": variant_id("PEPPERONI-12-HT"), "quantity": 2}],
        "scheduledFor": _tomorrow_evening(),
    }
    return orders, cart


async def test_demo_bundle_through_menu(start_subgraph, settings) -> None:
    orders, cart = await _real_stack(start_subgraph)
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    body = await gql(
        orders,
        PRICE,
        {"input": {**cart, "couponCodes": ["MEDIUM2", "CARRYOUT5"]}},
        headers=customer,
    )
    assert "errors" not in body, body
    priced = body["data"]["priceOrder"]
    assert priced["price"]["subtotal"] == {"amount": 2598}
    assert priced["price"]["discounts"] == {"amount": 1500}
    assert [(c["code"], c["amount"]["amount"]) for c in priced["coupons"]] == [
        ("MEDIUM2", 1000),
        ("CARRYOUT5", 500),
    ]


async def test_demo_coupon_errors_through_menu(start_subgraph, settings) -> None:
    orders, cart = await _real_stack(start_subgraph)
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    variables = {"input": {**cart, "couponCode": "WELCOME10", "couponCodes": ["MEDIUM2"]}}
    body = await gql(orders, PRICE, variables, headers=customer)
    assert body["errors"][0]["extensions"] == {
        "code": "COUPONS_NOT_COMBINABLE",
        "field": "couponCode",
    }
    variables = {"input": {**cart, "couponCode": "PARTY"}}
    body = await gql(orders, PRICE, variables, headers=customer)
    assert body["errors"][0]["extensions"] == {
        "code": "COUPON_NOT_APPLICABLE",
        "field": "couponCode",
    }
