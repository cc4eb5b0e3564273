"""menu's coupon rules, pure: bundles, tiers, percentages and amounts on cart units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.errors import DomainError
from subgraphs.menu import coupons
from subgraphs.menu.coupons import CartUnit
from subgraphs.menu.models import Coupon

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
MEDIUM2 = {"categoryCode": "PIZZA", "quantity": 2, "size": 12, "maxToppings": 2}
PARTY = [{"minQuantity": 4, "percentOff": 10}, {"minQuantity": 7, "percentOff": 15}]


def coupon(code: str = "TEST", **changes) -> Coupon:
    fields = {
        "code": code,
        "description": "",
        "starts_at": NOW - timedelta(days=1),
        "ends_at": None,
        "service_methods": "DELIVERY,CARRYOUT",
        "minimum_subtotal": 0,
        "percent_off": None,
        "amount_off": None,
        "bundle_price": None,
        "bundle_items": None,
        "tiers": None,
        "tier_category": None,
        "combinable": True,
        "active": True,
    }
    return Coupon(**{**fields, **changes})


def pizza(price: int, *, size: int = 12, toppings: int = 1, line: int = 0) -> CartUnit:
    return CartUnit(line, "PIZZA", size, toppings, price)


def drink(price: int = 349) -> CartUnit:
    return CartUnit(9, "DRINKS", None, 0, price)


def quote(cs, units, **kwargs):
    args = {"now": NOW, "service_method": "DELIVERY", "subtotal": sum(u.price for u in units)}
    return coupons.quote(cs, units=units, **{**args, **kwargs})


def broken(cs, units, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        quote(cs, units, **kwargs)
    return caught.value


def test_bundle_takes_the_regular_price_down_to_the_bundle_price() -> None:
    bundle = coupon(bundle_price=1598, bundle_items=[MEDIUM2])
    [applied] = quote([bundle], [pizza(1299), pizza(1299), drink()])
    assert applied.amount == 2 * 1299 - 1598


def test_bundle_picks_the_most_expensive_matching_units() -> None:
    bundle = coupon(bundle_price=1598, bundle_items=[MEDIUM2])
    [applied] = quote([bundle], [pizza(1099), pizza(1299), pizza(1399, toppings=2)])
    assert applied.amount == 1399 + 1299 - 1598


@pytest.mark.parametrize(
    "units",
    [
        [pizza(1299)],  # one pizza only
        [pizza(1299), pizza(1499, size=14)],  # wrong size
        [pizza(1299), pizza(1599, toppings=3)],  # too many toppings
        [pizza(1299), drink()],  # wrong category
    ],
)
def test_bundle_without_its_items_is_not_applicable(units) -> None:
    bundle = coupon(bundle_price=1598, bundle_items=[MEDIUM2])
    error = broken([bundle], units)
    assert (error.code, error.field) == ("COUPON_NOT_APPLICABLE", "codes[0]")


def test_bundle_that_saves_nothing_is_not_applicable() -> None:
    bundle = coupon(bundle_price=2500, bundle_items=[MEDIUM2])
    assert broken([bundle], [pizza(1099), pizza(1099)]).code == "COUPON_NOT_APPLICABLE"


@pytest.mark.parametrize(("count", "amount"), [(4, 4 * 1000 // 10), (6, 600), (7, 1050)])
def test_tiers_give_the_best_percentage_met(count, amount) -> None:
    party = coupon(tiers=PARTY, tier_category="PIZZA")
    [applied] = quote([party], [pizza(1000, line=i) for i in range(count)] + [drink()])
    assert applied.amount == amount


def test_tiers_below_the_first_threshold_are_not_applicable() -> None:
    party = coupon(tiers=PARTY, tier_category="PIZZA")
    error = broken([party], [pizza(1000)] * 3)
    assert error.code == "COUPON_NOT_APPLICABLE" and "4" in error.message


def test_percentage_rounds_half_up_and_amount_is_capped_at_the_subtotal() -> None:
    [percent] = quote([coupon(percent_off=10)], [pizza(1995)])
    assert percent.amount == 200
    [fixed] = quote([coupon(amount_off=5000)], [pizza(1299)])
    assert fixed.amount == 1299


def test_combined_coupons_never_exceed_the_subtotal() -> None:
    units = [pizza(1299), pizza(1299)]
    applied = quote(
        [
            coupon("AMOUNT", amount_off=900),
            coupon("BUNDLE", bundle_price=1598, bundle_items=[MEDIUM2]),
            coupon("PERCENT", percent_off=50),
        ],
        units,
    )
    # Items first (bundle 1000 off 2598), then 50% of the 1598 left, then the amount.
    assert [(a.code, a.amount) for a in applied] == [
        ("AMOUNT", 799),
        ("BUNDLE", 1000),
        ("PERCENT", 799),
    ]
    assert sum(a.amount for a in applied) == 2598


def test_a_unit_serves_one_bundle_only() -> None:
    first = coupon("ONE", bundle_price=1598, bundle_items=[MEDIUM2])
    second = coupon("TWO", bundle_price=1598, bundle_items=[MEDIUM2])
    error = broken([first, second], [pizza(1299), pizza(1299), pizza(1299)])
    assert (error.code, error.field) == ("COUPON_NOT_APPLICABLE", "codes[1]")


def test_a_coupon_that_is_not_combinable_is_refused_with_others() -> None:
    error = broken(
        [coupon("A", percent_off=5), coupon("B", amount_off=1, combinable=False)], [pizza(1299)]
    )
    assert (error.code, error.field) == ("COUPONS_NOT_COMBINABLE", "codes[1]")
    [alone] = quote([coupon("B", amount_off=100, combinable=False)], [pizza(1299)])
    assert alone.amount == 100


@pytest.mark.parametrize(
    ("changes", "kwargs", "code"),
    [
        ({"active": False}, {}, "COUPON_EXPIRED"),
        ({"starts_at": NOW + timedelta(minutes=1)}, {}, "COUPON_NOT_YET_VALID"),
        ({"ends_at": NOW}, {}, "COUPON_EXPIRED"),
        ({"service_methods": "CARRYOUT"}, {}, "COUPON_WRONG_SERVICE_METHOD"),
        ({"minimum_subtotal": 1300}, {}, "COUPON_MINIMUM_NOT_MET"),
    ],
)
def test_conditions_name_the_code_at_fault(changes, kwargs, code) -> None:
    error = broken(
        [coupon("OK", percent_off=5), coupon("BAD", percent_off=5, **changes)],
        [pizza(1299)],
        **kwargs,
    )
    assert (error.code, error.field) == (code, "codes[1]")


def test_kind_follows_the_offer() -> None:
    assert coupon(percent_off=5).kind == "PERCENT"
    assert coupon(amount_off=5).kind == "AMOUNT"
    assert coupon(bundle_price=5, bundle_items=[MEDIUM2]).kind == "BUNDLE"
    assert coupon(tiers=PARTY).kind == "TIERED"
