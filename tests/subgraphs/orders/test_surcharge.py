"""orders: the small-order surcharge of the price breakdown (pricing.py)."""

from __future__ import annotations

from dataclasses import replace

from subgraphs.orders import events, service
from subgraphs.orders.catalog import SMALL_ORDER_SURCHARGE, SMALL_ORDER_THRESHOLD, CartLine
from subgraphs.orders.pricing import compute_tax, price_cart, small_order_surcharge
from tests.subgraphs.orders.conftest import CUSTOMER, NOW, carryout_cart, delivery_cart
from tests.subgraphs.orders.test_coupons import CouponCatalog

ONE_COLA = [CartLine(variant_id="var_cola", quantity=1)]  # 2.99


def test_the_chain_charges_1_00_below_10_00_of_items() -> None:
    assert (SMALL_ORDER_THRESHOLD, SMALL_ORDER_SURCHARGE) == (1000, 100)


def test_the_surcharge_applies_below_the_threshold_only() -> None:
    def rule(subtotal: int) -> int:
        return small_order_surcharge(subtotal=subtotal, threshold=1000, amount=100)

    assert [rule(s) for s in (1, 999, 1000, 1001)] == [100, 100, 0, 0]


def test_an_empty_subtotal_pays_no_surcharge() -> None:
    assert small_order_surcharge(subtotal=0, threshold=1000, amount=100) == 0


async def test_a_small_carryout_order_pays_the_surcharge_and_its_tax(catalog) -> None:
    priced = await price_cart(catalog=catalog, cart=carryout_cart(lines=ONE_COLA), now=NOW)
    price = priced.price
    assert (price.subtotal, price.surcharge) == (299, 100)
    assert price.tax == compute_tax(299 + 100, 825) == 33
    assert price.total == 299 + 100 + 33


async def test_an_order_reaching_the_threshold_pays_none(catalog) -> None:
    catalog.prices["var_cola"] = 1000
    priced = await price_cart(catalog=catalog, cart=carryout_cart(lines=ONE_COLA), now=NOW)
    assert priced.price.surcharge == 0


async def test_a_delivery_order_at_the_minimum_pays_the_fee_but_no_surcharge(catalog) -> None:
    catalog.prices["var_cola"] = 500
    cart = delivery_cart(lines=[CartLine(variant_id="var_cola", quantity=2)])  # 10.00 minimum
    price = (await price_cart(catalog=catalog, cart=cart, now=NOW)).price
    assert (price.delivery_fee, price.surcharge) == (499, 0)


async def test_the_stores_own_rule_is_used(catalog) -> None:
    catalog.quote = replace(catalog.quote, small_order_threshold=1500, small_order_surcharge=250)
    priced = await price_cart(catalog=catalog, cart=carryout_cart(), now=NOW)  # 11.99
    assert priced.price.surcharge == 250


async def test_a_store_without_the_rule_charges_none(catalog) -> None:
    catalog.quote = replace(catalog.quote, small_order_threshold=0)
    priced = await price_cart(catalog=catalog, cart=carryout_cart(lines=ONE_COLA), now=NOW)
    assert priced.price.surcharge == 0


async def test_a_coupon_never_adds_the_surcharge() -> None:
    menu = CouponCatalog()
    cart = carryout_cart(coupon_code="TAKE5")  # 11.99 - 5.00 = 6.99 of items to pay
    price = (await price_cart(catalog=menu, cart=cart, now=NOW)).price
    assert (price.discounts, price.surcharge) == (500, 0)


async def test_a_placed_order_keeps_and_announces_its_surcharge(session, catalog) -> None:
    placement = await service.place_order(
        session=session,
        catalog=catalog,
        principal=CUSTOMER,
        cart=carryout_cart(lines=ONE_COLA),
        payment=service.PaymentChoice(type="CASH"),
        idempotency_key="small",
        now=NOW,
    )
    order = placement.order
    assert (order.surcharge, order.total) == (100, 432)
    price = events.order_placed_payload(order)["price"]
    assert price["surcharge"] == {"amount": 100, "currency": "USD"}
