"""Coupon rules: whether coupons apply to a priced cart, and what each one takes off.

Enters: coupon rows, the cart's pizzas and items as :class:`CartUnit` values (one per
unit ordered: category, size, topping count, unit price), the items subtotal, the
service method and the time. Leaves: one :class:`AppliedDiscount` per coupon, or the
first broken rule as a :class:`DomainError` whose ``field`` names the code at fault
(``codes[1]``). Pure: no database, no GraphQL.

Kinds of offer:

- PERCENT: a percentage off, rounded half up to the cent;
- AMOUNT: a fixed amount off;
- BUNDLE: a set of items (by category, size and at most N toppings) for one price;
  the most expensive matching units are taken, once per coupon, and the discount is
  their regular price minus the bundle price;
- TIERED: the best tier met by the number of units of ``tier_category`` (PIZZA by
  default) takes its percentage off those units.

Several coupons apply only when every one is combinable. They are computed item
offers first (bundles, then tiers; a unit serves one bundle or tier only), then
percentages on what is left, then fixed amounts; the sum never exceeds the subtotal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.errors import DomainError
from subgraphs.menu import pricing
from subgraphs.menu.models import Coupon

MAX_CODES = 5
"""Most coupon codes on one cart."""
COUNTED_GROUPS = frozenset({"MEAT", "VEGGIE"})
"""Toppings that count for "2-topping pizza" offers (sauce and cheese do not)."""
KIND_ORDER = {"BUNDLE": 0, "TIERED": 1, "PERCENT": 2, "AMOUNT": 3}


@dataclass(frozen=True, slots=True)
class BundleItem:
    """What one part of a bundle must be: ``quantity`` units of a category (size, toppings)."""

    category_code: str
    quantity: int
    size: int | None = None
    max_toppings: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "categoryCode": self.category_code,
            "quantity": self.quantity,
            "size": self.size,
            "maxToppings": self.max_toppings,
        }

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> BundleItem:
        return cls(
            category_code=value["categoryCode"],
            quantity=value["quantity"],
            size=value.get("size"),
            max_toppings=value.get("maxToppings"),
        )


@dataclass(frozen=True, slots=True)
class Tier:
    """``percent_off`` once the cart holds ``min_quantity`` units of the tier's category."""

    min_quantity: int
    percent_off: int

    def to_json(self) -> dict[str, int]:
        return {"minQuantity": self.min_quantity, "percentOff": self.percent_off}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Tier:
        return cls(min_quantity=value["minQuantity"], percent_off=value["percentOff"])


@dataclass(frozen=True, slots=True)
class CartUnit:
    """One unit of a cart line (a line of quantity 3 gives three units)."""

    line_index: int
    category_code: str
    size: int | None
    topping_count: int
    price: int


@dataclass(frozen=True, slots=True)
class AppliedDiscount:
    """What one coupon takes off the cart."""

    code: str
    description: str
    amount: int


def bundle_items(coupon: Coupon) -> list[BundleItem]:
    """The coupon's bundle requirements (empty unless a BUNDLE)."""
    return [BundleItem.from_json(x) for x in coupon.bundle_items or ()]


def tiers(coupon: Coupon) -> list[Tier]:
    """The coupon's tiers, lowest threshold first (empty unless TIERED)."""
    return sorted((Tier.from_json(x) for x in coupon.tiers or ()), key=lambda t: t.min_quantity)


def topping_count(line: pricing.LineRequest, menu: pricing.MenuSnapshot) -> int:
    """Meat and veggie toppings on the pizza: the defaults as changed by the choices."""
    variant = menu.variants.get(line.variant_id)
    if variant is None or not variant.is_pizza:
        return 0
    amounts = dict(variant.default_toppings)
    for choice in line.toppings:
        amounts[choice.topping_code] = choice.amount
    return sum(
        1
        for code, amount in amounts.items()
        if amount != "NONE"
        and code in menu.toppings
        and menu.toppings[code].group in COUNTED_GROUPS
    )


def cart_units(
    *, lines: Sequence[pricing.LineRequest], priced: pricing.PricedLines, menu: pricing.MenuSnapshot
) -> list[CartUnit]:
    """Every unit of the priced cart, with what coupons look at."""
    units = []
    for line in priced.lines:
        count = topping_count(lines[line.index], menu)
        units.extend(
            CartUnit(line.index, line.category_code, line.size, count, line.unit_price)
            for _ in range(line.quantity)
        )
    return units


def percent_of(amount: int, percent: int) -> int:
    """``percent`` of ``amount``, rounded half up to the cent."""
    return (amount * percent + 50) // 100


def check_conditions(
    coupon: Coupon, *, now: datetime, service_method: str, subtotal: int, field: str
) -> None:
    """Active, in its validity window, for this service method, minimum subtotal met."""
    if coupon.active is False:  # None: a row not flushed yet (active by default)
        raise DomainError(
            f"Coupon {coupon.code} has been withdrawn.", code="COUPON_EXPIRED", field=field
        )
    if now < coupon.starts_at:
        raise DomainError(
            f"Coupon {coupon.code} is not valid yet.", code="COUPON_NOT_YET_VALID", field=field
        )
    if coupon.ends_at is not None and now >= coupon.ends_at:
        raise DomainError(f"Coupon {coupon.code} has expired.", code="COUPON_EXPIRED", field=field)
    if service_method not in coupon.service_method_list:
        raise DomainError(
            f"Coupon {coupon.code} is for {' or '.join(coupon.service_method_list).lower()} only.",
            code="COUPON_WRONG_SERVICE_METHOD",
            field=field,
        )
    if subtotal < coupon.minimum_subtotal:
        raise DomainError(
            f"Coupon {coupon.code} needs a subtotal of at least {coupon.minimum_subtotal} cents.",
            code="COUPON_MINIMUM_NOT_MET",
            field=field,
        )


def check_combinable(coupons: Sequence[Coupon], *, field_prefix: str = "couponCodes") -> None:
    """Several coupons on one cart only when every one of them is combinable."""
    if len(coupons) < 2:
        return
    for i, coupon in enumerate(coupons):
        if not coupon.combinable:
            raise DomainError(
                f"Coupon {coupon.code} cannot be combined with other coupons.",
                code="COUPONS_NOT_COMBINABLE",
                field=f"{field_prefix}[{i}]",
            )


def _matches(unit: CartUnit, item: BundleItem) -> bool:
    return (
        unit.category_code == item.category_code
        and (item.size is None or unit.size == item.size)
        and (item.max_toppings is None or unit.topping_count <= item.max_toppings)
    )


def bundle_discount(
    coupon: Coupon, *, units: Sequence[CartUnit], used: set[int], field: str
) -> int:
    """Regular price of the best matching units minus the bundle price; marks them used."""
    taken: list[int] = []
    for item in bundle_items(coupon):
        candidates = sorted(
            (
                i
                for i, u in enumerate(units)
                if i not in used and i not in taken and _matches(u, item)
            ),
            key=lambda i: -units[i].price,
        )
        if len(candidates) < item.quantity:
            raise DomainError(
                f"Coupon {coupon.code} needs {coupon.description or 'other items'}.",
                code="COUPON_NOT_APPLICABLE",
                field=field,
            )
        taken.extend(candidates[: item.quantity])
    regular = sum(units[i].price for i in taken)
    discount = regular - (coupon.bundle_price or 0)
    if discount <= 0:
        raise DomainError(
            f"Coupon {coupon.code} would not lower the price of these items.",
            code="COUPON_NOT_APPLICABLE",
            field=field,
        )
    used.update(taken)
    return discount


def tier_discount(coupon: Coupon, *, units: Sequence[CartUnit], used: set[int], field: str) -> int:
    """The best tier's percentage off the units of the tier's category; marks them used."""
    category = coupon.tier_category or "PIZZA"
    counted = [i for i, u in enumerate(units) if i not in used and u.category_code == category]
    levels = tiers(coupon)
    met = [t for t in levels if len(counted) >= t.min_quantity]
    if not met:
        raise DomainError(
            f"Coupon {coupon.code} needs at least {levels[0].min_quantity} "
            f"{category.lower()} items.",
            code="COUPON_NOT_APPLICABLE",
            field=field,
        )
    used.update(counted)
    return percent_of(sum(units[i].price for i in counted), met[-1].percent_off)


def quote(
    coupons: Sequence[Coupon],
    *,
    units: Sequence[CartUnit],
    subtotal: int,
    now: datetime,
    service_method: str,
    field_prefix: str = "codes",
) -> list[AppliedDiscount]:
    """What each coupon takes off (in the order given); the total never exceeds ``subtotal``."""
    check_combinable(coupons, field_prefix=field_prefix)
    for i, coupon in enumerate(coupons):
        check_conditions(
            coupon,
            now=now,
            service_method=service_method,
            subtotal=subtotal,
            field=f"{field_prefix}[{i}]",
        )
    amounts: dict[int, int] = {}
    used: set[int] = set()
    left = subtotal
    for i in sorted(range(len(coupons)), key=lambda i: KIND_ORDER[coupons[i].kind]):
        coupon, field = coupons[i], f"{field_prefix}[{i}]"
        if coupon.kind == "BUNDLE":
            amount = bundle_discount(coupon, units=units, used=used, field=field)
        elif coupon.kind == "TIERED":
            amount = tier_discount(coupon, units=units, used=used, field=field)
        elif coupon.kind == "PERCENT":
            amount = percent_of(left, coupon.percent_off or 0)
        else:
            amount = coupon.amount_off or 0
        amounts[i] = min(amount, left)
        left -= amounts[i]
    return [
        AppliedDiscount(code=c.code, description=c.description, amount=amounts[i])
        for i, c in enumerate(coupons)
    ]
