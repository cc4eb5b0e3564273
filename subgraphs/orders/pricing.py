"""Cart rules and the price breakdown: what an order would cost, checked before it exists.

Enters: a :class:`Cart` and a :class:`~subgraphs.orders.catalog.Catalog` (menu
prices the lines, geo quotes the store). Leaves: a :class:`PricedCart` with the
:class:`PriceBreakdown` in integer minor units, or a DomainError naming the rule
and the input field at fault. No database and no GraphQL here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from shared.errors import DomainError
from subgraphs.orders import coupons
from subgraphs.orders.catalog import CartLine, Catalog, DeliveryQuote, PricedLine

MAX_LINES = 50
MAX_QUANTITY = 25
MIN_SCHEDULE_LEAD = timedelta(minutes=30)
MAX_SCHEDULE_AHEAD = timedelta(days=7)
BASIS_POINTS = 10_000
SERVICE_METHODS = ("DELIVERY", "CARRYOUT")


@dataclass(frozen=True, slots=True)
class DeliveryAddress:
    """Where a DELIVERY order goes."""

    line1: str
    city: str
    postcode: str
    lat: float
    lng: float
    line2: str | None = None
    instructions: str | None = None


@dataclass(frozen=True, slots=True)
class Cart:
    """What the customer wants, before it is priced."""

    store_id: str
    service_method: str
    lines: list[CartLine]
    delivery_address: DeliveryAddress | None = None
    scheduled_for: datetime | None = None
    tip: int = 0
    coupon_code: str | None = None
    coupon_codes: tuple[str, ...] = ()
    """More codes (``couponCodes``); with ``coupon_code`` at most 5 distinct ones."""
    coupons_at: datetime | None = None
    """When coupons' validity is judged (None: now; a modified order keeps its placing time)."""


@dataclass(frozen=True, slots=True)
class PriceBreakdown:
    """What an order costs, every amount in minor units of ``currency``."""

    subtotal: int
    discounts: int
    delivery_fee: int
    surcharge: int
    tax: int
    tip: int
    total: int
    currency: str


@dataclass(frozen=True, slots=True)
class PricedCart:
    """A cart that passed every rule, with its priced lines and breakdown."""

    cart: Cart
    lines: list[PricedLine]
    price: PriceBreakdown
    quote: DeliveryQuote
    notes: list[str] = field(default_factory=list)
    coupons: list[coupons.AppliedCoupon] = field(default_factory=list)


def compute_tax(taxable: int, basis_points: int) -> int:
    """``taxable x rate`` rounded half up to a whole minor unit (integer arithmetic only)."""
    if taxable <= 0 or basis_points <= 0:
        return 0
    return (taxable * basis_points + BASIS_POINTS // 2) // BASIS_POINTS


def small_order_surcharge(*, subtotal: int, threshold: int, amount: int) -> int:
    """``amount`` when the items subtotal is below the store's small-order ``threshold``.

    Judged on the subtotal before discounts, so a coupon never adds a surcharge; an empty
    subtotal (nothing to make) pays none. DELIVERY orders must reach the store's minimum
    anyway, so with the chain's defaults the surcharge meets small CARRYOUT orders.
    """
    return max(amount, 0) if 0 < subtotal < threshold else 0


def price_breakdown(
    *,
    subtotal: int,
    currency: str,
    tax_rate_basis_points: int,
    discounts: int = 0,
    delivery_fee: int = 0,
    surcharge: int = 0,
    tip: int = 0,
) -> PriceBreakdown:
    """The breakdown: tax on (subtotal - discounts + delivery fee + surcharge); tip untaxed."""
    discounts = min(discounts, subtotal)
    taxable = subtotal - discounts + delivery_fee + surcharge
    tax = compute_tax(taxable, tax_rate_basis_points)
    return PriceBreakdown(
        subtotal=subtotal,
        discounts=discounts,
        delivery_fee=delivery_fee,
        surcharge=surcharge,
        tax=tax,
        tip=tip,
        total=taxable + tax + tip,
        currency=currency,
    )


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive time is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_cart_shape(cart: Cart, *, now: datetime) -> None:
    """Rules that need no other subgraph: lines, address, tip, schedule."""
    if cart.service_method not in SERVICE_METHODS:
        raise DomainError(
            "The service method must be DELIVERY or CARRYOUT.",
            code="INVALID_SERVICE_METHOD",
            field="serviceMethod",
        )
    if not cart.lines:
        raise DomainError("The order has no lines.", code="EMPTY_ORDER", field="lines")
    if len(cart.lines) > MAX_LINES:
        raise DomainError(
            f"An order can have at most {MAX_LINES} lines.", code="TOO_MANY_LINES", field="lines"
        )
    for i, line in enumerate(cart.lines):
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise DomainError(
                f"The quantity must be between 1 and {MAX_QUANTITY}.",
                code="INVALID_QUANTITY",
                field=f"lines[{i}].quantity",
            )
    if cart.service_method == "DELIVERY":
        address = cart.delivery_address
        if address is None:
            raise DomainError(
                "A delivery order needs a delivery address.",
                code="DELIVERY_ADDRESS_REQUIRED",
                field="deliveryAddress",
            )
        if not (-90 <= address.lat <= 90 and -180 <= address.lng <= 180):
            raise DomainError(
                "The delivery location must have a valid latitude and longitude.",
                code="INVALID_LOCATION",
                field="deliveryAddress.location",
            )
        if not address.line1.strip():
            raise DomainError(
                "The delivery address needs a street and number.",
                code="INVALID_ADDRESS",
                field="deliveryAddress.line1",
            )
    if cart.tip < 0:
        raise DomainError("The tip cannot be negative.", code="INVALID_TIP", field="tip")
    if cart.scheduled_for is not None:
        when = as_utc(cart.scheduled_for)
        if when < now + MIN_SCHEDULE_LEAD:
            raise DomainError(
                "A scheduled order must be at least 30 minutes ahead.",
                code="INVALID_SCHEDULE",
                field="scheduledFor",
            )
        if when > now + MAX_SCHEDULE_AHEAD:
            raise DomainError(
                "A scheduled order can be at most 7 days ahead.",
                code="INVALID_SCHEDULE",
                field="scheduledFor",
            )


def check_quote(cart: Cart, quote: DeliveryQuote) -> None:
    """Rules geo's quote decides: zone, opening hours (now, or at the scheduled time), tips."""
    if not quote.can_serve:
        if quote.reason_code == "LOCATION_REQUIRED":
            raise DomainError(
                quote.reason or "A delivery order needs a delivery location.",
                code="DELIVERY_ADDRESS_REQUIRED",
                field="deliveryAddress",
            )
        if quote.reason_code == "SERVICE_NOT_OFFERED":
            raise DomainError(
                quote.reason or "The store does not offer this service method.",
                code="SERVICE_NOT_OFFERED",
                field="serviceMethod",
            )
        if cart.service_method == "DELIVERY":
            raise DomainError(
                quote.reason or "The address is outside the store's delivery zone.",
                code="OUT_OF_ZONE",
                field="deliveryAddress",
            )
        raise DomainError(
            quote.reason or "The store cannot take this order.",
            code="STORE_UNAVAILABLE",
            field="storeId",
        )
    if not quote.is_open:
        if cart.scheduled_for is None:
            raise DomainError(
                "The store is closed now; schedule the order for later.",
                code="STORE_CLOSED",
                field="storeId",
            )
        raise DomainError(
            "The store is closed at the time asked for.",
            code="STORE_CLOSED",
            field="scheduledFor",
        )
    if cart.tip > 0 and not quote.tipping_allowed:
        raise DomainError("This store does not take tips.", code="TIP_NOT_ALLOWED", field="tip")


async def price_cart(*, catalog: Catalog, cart: Cart, now: datetime | None = None) -> PricedCart:
    """Check every rule of ``cart`` and price it (validate → price in the real APIs)."""
    now = now or datetime.now(UTC)
    check_cart_shape(cart, now=now)
    codes = coupons.code_inputs(cart.coupon_code, cart.coupon_codes)
    address = cart.delivery_address
    quote = await catalog.delivery_quote(
        store_id=cart.store_id,
        service_method=cart.service_method,
        location=(address.lat, address.lng)
        if address is not None and cart.service_method == "DELIVERY"
        else None,
        at=as_utc(cart.scheduled_for) if cart.scheduled_for else None,
    )
    check_quote(cart, quote)
    priced = await catalog.price_lines(store_id=cart.store_id, lines=cart.lines)
    if any(line.currency != priced.currency for line in priced.lines) or (
        cart.service_method == "DELIVERY" and quote.currency != priced.currency
    ):
        raise DomainError("The store's prices disagree on the currency.", code="CURRENCY_MISMATCH")
    applied = await coupons.quote_cart(
        quoter=catalog,
        store_id=cart.store_id,
        service_method=cart.service_method,
        codes=codes,
        lines=cart.lines,
        at=cart.coupons_at or now,
        currency=priced.currency,
    )
    discounts = min(sum(a.amount for a in applied), priced.subtotal)
    delivery = cart.service_method == "DELIVERY"
    if delivery and priced.subtotal - discounts < quote.minimum_order:
        raise DomainError(
            f"Delivery orders must reach a subtotal of {quote.minimum_order} "
            f"(minor units of {priced.currency}).",
            code="BELOW_MINIMUM_ORDER",
            field="lines",
        )
    price = price_breakdown(
        subtotal=priced.subtotal,
        currency=priced.currency,
        tax_rate_basis_points=quote.tax_rate_basis_points,
        discounts=discounts,
        delivery_fee=quote.delivery_fee if delivery else 0,
        surcharge=small_order_surcharge(
            subtotal=priced.subtotal,
            threshold=quote.small_order_threshold,
            amount=quote.small_order_surcharge,
        ),
        tip=cart.tip,
    )
    return PricedCart(cart=cart, lines=priced.lines, price=price, quote=quote, coupons=applied)
