"""orders: cart rules and the price breakdown (pricing.py, no database, no GraphQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.errors import DomainError
from subgraphs.orders.catalog import CartLine
from subgraphs.orders.pricing import compute_tax, price_breakdown, price_cart
from tests.subgraphs.orders.conftest import NOW, carryout_cart, delivery_cart, open_quote


async def _code(catalog, cart) -> tuple[str, str | None]:
    with pytest.raises(DomainError) as caught:
        await price_cart(catalog=catalog, cart=cart, now=NOW)
    return caught.value.code, caught.value.field


def test_tax_rounds_half_up_to_whole_cents() -> None:
    assert compute_tax(1000, 825) == 83  # 82.5 -> 83
    assert compute_tax(1000, 824) == 82  # 82.4 -> 82
    assert compute_tax(1006, 825) == 83  # 82.995 -> 83
    assert compute_tax(0, 825) == 0


def test_breakdown_taxes_fees_but_not_the_tip() -> None:
    price = price_breakdown(
        subtotal=2998, currency="USD", tax_rate_basis_points=825, delivery_fee=499, tip=300
    )
    # taxable 2998 + 499 = 3497; 3497 x 8.25% = 288.50 -> 289 (half up)
    assert price.tax == 289
    assert price.total == 3497 + 289 + 300
    assert (price.discounts, price.surcharge, price.currency) == (0, 0, "USD")


def test_discounts_reduce_the_taxable_amount_but_never_below_zero() -> None:
    price = price_breakdown(
        subtotal=1000, currency="USD", tax_rate_basis_points=1000, discounts=200
    )
    assert (price.tax, price.total) == (80, 880)
    capped = price_breakdown(
        subtotal=500, currency="USD", tax_rate_basis_points=1000, discounts=900
    )
    assert (capped.discounts, capped.total) == (500, 0)


async def test_delivery_cart_is_priced_with_fee_tax_and_tip(catalog) -> None:
    priced = await price_cart(catalog=catalog, cart=delivery_cart(tip=400), now=NOW)
    price = priced.price
    assert (price.subtotal, price.delivery_fee, price.tip) == (3198, 499, 400)
    assert price.tax == compute_tax(3198 + 499, 825) == 305
    assert price.total == 3198 + 499 + 305 + 400
    assert catalog.quote_calls == [(priced.cart.store_id, "DELIVERY", (30.2747, -97.7404))]


async def test_carryout_has_no_delivery_fee_and_no_minimum(catalog) -> None:
    priced = await price_cart(catalog=catalog, cart=carryout_cart(), now=NOW)
    assert priced.price.delivery_fee == 0
    assert priced.price.total == 1199 + compute_tax(1199, 825)
    assert catalog.quote_calls[0][2] is None  # no location for carryout


async def test_empty_cart_is_refused(catalog) -> None:
    assert await _code(catalog, delivery_cart(lines=[])) == ("EMPTY_ORDER", "lines")


async def test_delivery_needs_an_address(catalog) -> None:
    code = await _code(catalog, delivery_cart(delivery_address=None))
    assert code == ("DELIVERY_ADDRESS_REQUIRED", "deliveryAddress")


async def test_address_outside_the_zone_is_refused(catalog) -> None:
    catalog.quote = open_quote(can_serve=False, reason_code="OUT_OF_ZONE", reason="Too far.")
    assert await _code(catalog, delivery_cart()) == ("OUT_OF_ZONE", "deliveryAddress")


async def test_closed_store_refuses_asap_orders(catalog) -> None:
    catalog.quote = open_quote(is_open=False)
    assert (await _code(catalog, delivery_cart()))[0] == "STORE_CLOSED"


async def test_closed_store_takes_orders_scheduled_for_its_opening_hours(catalog) -> None:
    catalog.opens_at = NOW + timedelta(hours=12)
    assert await _code(catalog, delivery_cart()) == ("STORE_CLOSED", "storeId")
    later = delivery_cart(scheduled_for=NOW + timedelta(hours=13))
    assert (await price_cart(catalog=catalog, cart=later, now=NOW)).price.total > 0
    too_soon = delivery_cart(scheduled_for=NOW + timedelta(hours=11))
    assert await _code(catalog, too_soon) == ("STORE_CLOSED", "scheduledFor")


async def test_store_that_does_not_offer_the_method_says_so(catalog) -> None:
    catalog.quote = open_quote(can_serve=False, reason_code="SERVICE_NOT_OFFERED")
    assert await _code(catalog, carryout_cart()) == ("SERVICE_NOT_OFFERED", "serviceMethod")


async def test_delivery_below_the_minimum_is_refused(catalog) -> None:
    cart = delivery_cart(lines=[CartLine(variant_id="var_cola", quantity=3)])  # 8.97 < 10.00
    assert await _code(catalog, cart) == ("BELOW_MINIMUM_ORDER", "lines")


async def test_delivery_at_exactly_the_minimum_is_accepted(catalog) -> None:
    catalog.prices["var_cola"] = 500
    cart = delivery_cart(lines=[CartLine(variant_id="var_cola", quantity=2)])
    assert (await price_cart(catalog=catalog, cart=cart, now=NOW)).price.subtotal == 1000


@pytest.mark.parametrize(
    ("ahead", "ok"),
    [
        (timedelta(minutes=29), False),
        (timedelta(minutes=30), True),
        (timedelta(days=7), True),
        (timedelta(days=7, minutes=1), False),
        (timedelta(minutes=-5), False),
    ],
)
async def test_schedule_must_be_30_minutes_to_7_days_ahead(catalog, ahead, ok) -> None:
    cart = delivery_cart(scheduled_for=NOW + ahead)
    if ok:
        await price_cart(catalog=catalog, cart=cart, now=NOW)
    else:
        assert await _code(catalog, cart) == ("INVALID_SCHEDULE", "scheduledFor")


async def test_negative_tip_is_refused(catalog) -> None:
    assert await _code(catalog, delivery_cart(tip=-1)) == ("INVALID_TIP", "tip")


async def test_tip_only_where_the_store_allows_tips(catalog) -> None:
    assert (
        await price_cart(catalog=catalog, cart=carryout_cart(tip=100), now=NOW)
    ).price.tip == 100
    catalog.quote = open_quote(tipping_allowed=False)
    assert await _code(catalog, delivery_cart(tip=100)) == ("TIP_NOT_ALLOWED", "tip")
    assert (await price_cart(catalog=catalog, cart=delivery_cart(tip=0), now=NOW)).price.tip == 0


async def test_quantity_out_of_range_names_the_line(catalog) -> None:
    cart = delivery_cart(
        lines=[CartLine(variant_id="var_cola", quantity=1), CartLine("var_cola", quantity=0)]
    )
    assert await _code(catalog, cart) == ("INVALID_QUANTITY", "lines[1].quantity")


async def test_menu_errors_pass_through_with_code_and_field(catalog) -> None:
    cart = delivery_cart(lines=[CartLine("var_pepperoni_14", 1), CartLine("var_unknown", 1)])
    assert await _code(catalog, cart) == ("UNKNOWN_VARIANT", "lines[1].variantId")
