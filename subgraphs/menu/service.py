"""Menu's rules: reading a store's menu, pricing carts, admin changes, coupons.

Plain async functions with keyword-only arguments over a SQLAlchemy session;
no GraphQL here. They raise :class:`shared.errors.DomainError` subclasses whose
``field`` is the camelCase path of the input at fault. The customization and
pricing arithmetic itself is pure and lives in :mod:`subgraphs.menu.pricing`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, DomainError, Forbidden, NotFound
from shared.ids import new_id
from subgraphs.menu import coupons, pricing
from subgraphs.menu.models import (
    Category,
    Coupon,
    DefaultTopping,
    Product,
    Topping,
    ToppingAvailability,
    ToppingPrice,
    Variant,
    VariantAvailability,
)

CURRENCY = "USD"
"""The chain prices its menu in one currency (the demo city's)."""
CRUSTS = {
    "HAND_TOSSED": "Hand Tossed",
    "THIN": "Thin Crust",
    "PAN": "Handmade Pan",
    "GLUTEN_FREE": "Gluten Free Crust",
}
TOPPING_GROUPS = ("SAUCE", "CHEESE", "MEAT", "VEGGIE")
SERVICE_METHODS = ("DELIVERY", "CARRYOUT")
CODE_RE = re.compile(r"^[A-Z0-9]+(?:[-_][A-Z0-9]+)*$")
COUPON_CODE_RE = re.compile(r"^[A-Z0-9]{3,20}$")
MAX_VARIANTS = 20


def require_store_id(store_id: str) -> str:
    if not store_id.strip():
        raise DomainError("Name a store.", code="INVALID_STORE", field="storeId")
    return store_id.strip()


# --- reading -------------------------------------------------------------------------


async def get_product(*, session: AsyncSession, product_id: str) -> Product:
    """The product with ``product_id``; NOT_FOUND otherwise."""
    product = await session.get(Product, product_id)
    if product is None:
        raise NotFound(f"No product has id {product_id!r}.")
    return product


async def unavailable_variant_ids(*, session: AsyncSession, store_id: str) -> frozenset[str]:
    """Variants the store does not sell (its overrides saying so)."""
    rows = await session.scalars(
        select(VariantAvailability.variant_id).where(
            VariantAvailability.store_id == store_id, VariantAvailability.available.is_(False)
        )
    )
    return frozenset(rows)


async def unavailable_topping_ids(*, session: AsyncSession, store_id: str) -> frozenset[str]:
    """Toppings the store has run out of (its overrides saying so)."""
    rows = await session.scalars(
        select(ToppingAvailability.topping_id).where(
            ToppingAvailability.store_id == store_id, ToppingAvailability.available.is_(False)
        )
    )
    return frozenset(rows)


def root_category(categories: dict[str, Category], category_id: str) -> Category:
    """The top-level category (Pizza, Sides...) above ``category_id``."""
    category = categories[category_id]
    while category.parent_id is not None:
        category = categories[category.parent_id]
    return category


async def load_menu_snapshot(
    *, session: AsyncSession, store_id: str, variant_ids: Sequence[str]
) -> pricing.MenuSnapshot:
    """What pricing needs to know about ``variant_ids`` and the toppings at one store."""
    rows = (
        await session.execute(
            select(Variant, Product)
            .join(Product, Variant.product_id == Product.id)
            .where(Variant.id.in_(set(variant_ids)))
        )
    ).all()
    categories = {c.id: c for c in await session.scalars(select(Category))}
    toppings = {t.id: t for t in await session.scalars(select(Topping))}
    prices: dict[str, dict[int, int]] = defaultdict(dict)
    for price in await session.scalars(select(ToppingPrice)):
        prices[price.topping_id][price.size_inches] = price.price
    defaults: dict[str, list[tuple[str, str]]] = defaultdict(list)
    product_ids = {product.id for _, product in rows}
    query = (
        select(DefaultTopping)
        .where(DefaultTopping.product_id.in_(product_ids))
        .order_by(DefaultTopping.position)
    )
    for default in await session.scalars(query):
        defaults[default.product_id].append((toppings[default.topping_id].code, default.amount))
    no_variants = await unavailable_variant_ids(session=session, store_id=store_id)
    no_toppings = await unavailable_topping_ids(session=session, store_id=store_id)
    variants = {
        variant.id: pricing.MenuVariant(
            id=variant.id,
            code=variant.code,
            name=variant.name,
            size=variant.size_inches,
            price=variant.price,
            product_id=product.id,
            product_name=product.name,
            category_code=root_category(categories, product.category_id).code,
            is_pizza=product.is_pizza,
            default_toppings=tuple(defaults[product.id]),
            available=product.active and variant.id not in no_variants,
        )
        for variant, product in rows
    }
    menu_toppings = {
        t.code: pricing.MenuTopping(
            code=t.code,
            name=t.name,
            group=t.group,
            whole_only=t.whole_only,
            exclusive=t.exclusive,
            prices=prices[t.id],
            available=t.id not in no_toppings,
        )
        for t in toppings.values()
    }
    return pricing.MenuSnapshot(variants=variants, toppings=menu_toppings)


async def price_lines(
    *, session: AsyncSession, store_id: str, lines: Sequence[pricing.LineRequest]
) -> pricing.PricedLines:
    """Validate every line's customization against the store's menu and price it."""
    store_id = require_store_id(store_id)
    if len(lines) > pricing.MAX_LINES:
        raise DomainError(
            f"A cart holds at most {pricing.MAX_LINES} lines.", code="TOO_MANY_LINES", field="lines"
        )
    menu = await load_menu_snapshot(
        session=session, store_id=store_id, variant_ids=[line.variant_id for line in lines]
    )
    return pricing.price_lines(lines=lines, menu=menu)


# --- admin: products and availability ------------------------------------------------


@dataclass(frozen=True, slots=True)
class VariantSpec:
    """A variant of a new product."""

    code: str
    price: int
    name: str | None = None
    size: int | None = None
    crust: str | None = None


@dataclass(frozen=True, slots=True)
class DefaultToppingSpec:
    """A topping a new pizza comes with."""

    topping_code: str
    amount: str = "NORMAL"


def _check_code(code: str, field: str) -> str:
    code = code.strip().upper()
    if not CODE_RE.match(code) or len(code) > 60:
        raise DomainError(
            "Codes are upper-case letters and digits joined by - or _, e.g. PEPPERONI-14-HT.",
            code="INVALID_CODE",
            field=field,
        )
    return code


def _check_text(value: str, field: str, *, max_length: int = 120) -> str:
    value = value.strip()
    if not value or len(value) > max_length:
        raise DomainError(
            f"The {field} must have 1 to {max_length} characters.", code="INVALID_NAME", field=field
        )
    return value


def _check_price(price: int, field: str) -> int:
    if not 0 <= price <= 1_000_000:
        raise DomainError(
            "A price is a whole number of cents from 0 to 1000000.",
            code="INVALID_PRICE",
            field=field,
        )
    return price


def _variant_row(product_id: str, is_pizza: bool, spec: VariantSpec, at: str, i: int) -> Variant:
    if is_pizza:
        if spec.size not in pricing.PIZZA_SIZES:
            raise DomainError(
                f"A pizza's size is one of {', '.join(map(str, pricing.PIZZA_SIZES))} inches.",
                code="INVALID_SIZE",
                field=f"{at}.size",
            )
        if spec.crust not in CRUSTS:
            raise DomainError("A pizza needs a crust.", code="INVALID_CRUST", field=f"{at}.crust")
    else:
        if spec.size is not None:
            raise DomainError(
                "Only pizzas have a size in inches.", code="INVALID_SIZE", field=f"{at}.size"
            )
        if spec.crust is not None:
            raise DomainError(
                "Only pizzas have a crust.", code="INVALID_CRUST", field=f"{at}.crust"
            )
    if spec.name is not None:
        name = _check_text(spec.name, f"{at}.name")
    elif is_pizza:
        name = f'{spec.size}" {CRUSTS[spec.crust or ""]}'
    else:
        raise DomainError(
            "Name the variant, e.g. 8 pieces.", code="INVALID_NAME", field=f"{at}.name"
        )
    return Variant(
        id=new_id("var"),
        product_id=product_id,
        code=_check_code(spec.code, f"{at}.code"),
        name=name,
        size_inches=spec.size,
        crust=spec.crust,
        price=_check_price(spec.price, f"{at}.price"),
        position=i,
    )


async def create_product(
    *,
    session: AsyncSession,
    code: str,
    name: str,
    category_id: str,
    is_pizza: bool,
    variants: Sequence[VariantSpec],
    default_toppings: Sequence[DefaultToppingSpec] = (),
    description: str = "",
    image_url: str | None = None,
) -> Product:
    """Add a product with its variants (and default toppings for a pizza)."""
    code = _check_code(code, "code")
    name = _check_text(name, "name")
    if await session.get(Category, category_id) is None:
        raise NotFound(f"No category has id {category_id!r}.", field="categoryId")
    if not 1 <= len(variants) <= MAX_VARIANTS:
        raise DomainError(
            f"A product has 1 to {MAX_VARIANTS} variants.",
            code="INVALID_VARIANTS",
            field="variants",
        )
    if default_toppings and not is_pizza:
        raise DomainError(
            "Only pizzas have default toppings.",
            code="NOT_CUSTOMIZABLE",
            field="defaultToppings",
        )
    if await session.scalar(select(Product.id).where(Product.code == code)):
        raise Conflict(
            f"A product with code {code} exists already.", code="CODE_TAKEN", field="code"
        )
    product = Product(
        id=new_id("prd"),
        code=code,
        name=name,
        description=description.strip(),
        category_id=category_id,
        is_pizza=is_pizza,
        image_url=image_url,
        active=True,
        position=0,
        created_at=utcnow(),
    )
    rows = [
        _variant_row(product.id, is_pizza, s, f"variants[{i}]", i) for i, s in enumerate(variants)
    ]
    codes = [r.code for r in rows]
    taken = set(await session.scalars(select(Variant.code).where(Variant.code.in_(codes))))
    for i, row in enumerate(rows):
        if row.code in taken or row.code in codes[:i]:
            raise Conflict(
                f"A variant with code {row.code} exists already.",
                code="CODE_TAKEN",
                field=f"variants[{i}].code",
            )
    toppings = {t.code: t for t in await session.scalars(select(Topping))}
    defaults: list[DefaultTopping] = []
    for i, spec in enumerate(default_toppings):
        topping = toppings.get(spec.topping_code)
        if topping is None:
            raise DomainError(
                f"There is no topping {spec.topping_code!r}.",
                code="INVALID_TOPPING",
                field=f"defaultToppings[{i}].toppingCode",
            )
        if spec.amount == "NONE" or any(d.topping_id == topping.id for d in defaults):
            raise DomainError(
                "List each default topping once, with an amount other than NONE.",
                code="INVALID_TOPPING",
                field=f"defaultToppings[{i}]",
            )
        defaults.append(
            DefaultTopping(
                product_id=product.id, topping_id=topping.id, amount=spec.amount, position=i
            )
        )
    session.add(product)
    await session.flush()
    session.add_all([*rows, *defaults])
    await session.flush()
    return product


async def update_product(
    *,
    session: AsyncSession,
    product_id: str,
    name: str | None = None,
    description: str | None = None,
    image_url: str | None = None,
    active: bool | None = None,
    variant_prices: Sequence[tuple[str, int]] = (),
) -> Product:
    """Change a product's texts, whether it is sold, and its variants' prices."""
    product = await get_product(session=session, product_id=product_id)
    if name is not None:
        product.name = _check_text(name, "name")
    if description is not None:
        product.description = description.strip()
    if image_url is not None:
        product.image_url = image_url or None
    if active is not None:
        product.active = active
    if variant_prices:
        own = {
            v.id: v
            for v in await session.scalars(select(Variant).where(Variant.product_id == product.id))
        }
        for i, (variant_id, price) in enumerate(variant_prices):
            variant = own.get(variant_id)
            if variant is None:
                raise NotFound(
                    f"The product has no variant {variant_id!r}.",
                    field=f"variantPrices[{i}].variantId",
                )
            variant.price = _check_price(price, f"variantPrices[{i}].price")
    await session.flush()
    return product


def ensure_can_manage_store(principal: Principal, store_id: str) -> None:
    """Admins manage every store; staff only their own."""
    if principal.has_role("ADMIN"):
        return
    if principal.has_role("STAFF") and principal.store_id == store_id:
        return
    raise Forbidden("Only admins, or staff of this store, can change its availability.")


async def set_availability(
    *,
    session: AsyncSession,
    principal: Principal,
    store_id: str,
    available: bool,
    variant_id: str | None = None,
    topping_code: str | None = None,
) -> Variant | Topping:
    """Mark one variant or one topping (un)available at a store; returns it."""
    store_id = require_store_id(store_id)
    ensure_can_manage_store(principal, store_id)
    if (variant_id is None) == (topping_code is None):
        raise DomainError(
            "Give either a variantId or a toppingCode.", code="BAD_USER_INPUT", field="variantId"
        )
    now = utcnow()
    if variant_id is not None:
        variant = await session.get(Variant, variant_id)
        if variant is None:
            raise NotFound(f"No variant has id {variant_id!r}.", field="variantId")
        row = await session.get(VariantAvailability, (store_id, variant.id))
        if row is None:
            session.add(
                VariantAvailability(
                    store_id=store_id, variant_id=variant.id, available=available, updated_at=now
                )
            )
        else:
            row.available, row.updated_at = available, now
        await session.flush()
        return variant
    topping = await session.scalar(select(Topping).where(Topping.code == topping_code))
    if topping is None:
        raise DomainError(
            f"There is no topping {topping_code!r}.", code="INVALID_TOPPING", field="toppingCode"
        )
    trow = await session.get(ToppingAvailability, (store_id, topping.id))
    if trow is None:
        session.add(
            ToppingAvailability(
                store_id=store_id, topping_id=topping.id, available=available, updated_at=now
            )
        )
    else:
        trow.available, trow.updated_at = available, now
    await session.flush()
    return topping


# --- coupons -------------------------------------------------------------------------

MAX_BUNDLE_ITEMS = 10
MAX_TIERS = 10


@dataclass(frozen=True, slots=True)
class CouponOffer:
    """What a coupon gives: exactly one of a percentage, an amount, a bundle or tiers."""

    percent_off: int | None = None
    amount_off: int | None = None
    bundle_price: int | None = None
    bundle_items: Sequence[coupons.BundleItem] = ()
    tiers: Sequence[coupons.Tier] = ()
    tier_category: str | None = None


def _check_offer(offer: CouponOffer) -> None:
    given = [
        name
        for name, value in (
            ("percentOff", offer.percent_off),
            ("amountOff", offer.amount_off),
            ("bundle", offer.bundle_price),
            ("tiers", offer.tiers or None),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise DomainError(
            "Give exactly one of percentOff, amountOff, bundle or tiers.",
            code="INVALID_DISCOUNT",
            field=given[0] if given else "percentOff",
        )
    if offer.percent_off is not None and not 1 <= offer.percent_off <= 100:
        raise DomainError(
            "percentOff is between 1 and 100.", code="INVALID_DISCOUNT", field="percentOff"
        )
    if offer.amount_off is not None and offer.amount_off <= 0:
        raise DomainError(
            "amountOff is a positive number of cents.", code="INVALID_DISCOUNT", field="amountOff"
        )
    if offer.bundle_price is not None:
        _check_price(offer.bundle_price, "bundle.price")
        if not 1 <= len(offer.bundle_items) <= MAX_BUNDLE_ITEMS:
            raise DomainError(
                f"A bundle names 1 to {MAX_BUNDLE_ITEMS} items.",
                code="INVALID_BUNDLE",
                field="bundle.items",
            )
        for i, item in enumerate(offer.bundle_items):
            at = f"bundle.items[{i}]"
            if not 1 <= item.quantity <= pricing.MAX_QUANTITY:
                raise DomainError(
                    f"A bundle item's quantity is 1 to {pricing.MAX_QUANTITY}.",
                    code="INVALID_BUNDLE",
                    field=f"{at}.quantity",
                )
            if item.size is not None and item.size not in pricing.PIZZA_SIZES:
                raise DomainError(
                    f"A pizza's size is one of {', '.join(map(str, pricing.PIZZA_SIZES))} inches.",
                    code="INVALID_SIZE",
                    field=f"{at}.size",
                )
            if item.max_toppings is not None and item.max_toppings < 0:
                raise DomainError(
                    "maxToppings cannot be negative.",
                    code="INVALID_BUNDLE",
                    field=f"{at}.maxToppings",
                )
    if offer.tiers:
        if len(offer.tiers) > MAX_TIERS:
            raise DomainError(f"At most {MAX_TIERS} tiers.", code="INVALID_TIERS", field="tiers")
        thresholds = [t.min_quantity for t in offer.tiers]
        for i, tier in enumerate(offer.tiers):
            if tier.min_quantity < 1 or thresholds.count(tier.min_quantity) > 1:
                raise DomainError(
                    "Tier thresholds are distinct positive quantities.",
                    code="INVALID_TIERS",
                    field=f"tiers[{i}].minQuantity",
                )
            if not 1 <= tier.percent_off <= 100:
                raise DomainError(
                    "A tier's percentOff is between 1 and 100.",
                    code="INVALID_TIERS",
                    field=f"tiers[{i}].percentOff",
                )


async def _check_category_codes(session: AsyncSession, offer: CouponOffer) -> None:
    known = set(await session.scalars(select(Category.code).where(Category.parent_id.is_(None))))
    for i, item in enumerate(offer.bundle_items):
        if item.category_code not in known:
            raise DomainError(
                f"There is no top-level category {item.category_code!r}.",
                code="INVALID_CATEGORY",
                field=f"bundle.items[{i}].categoryCode",
            )
    if offer.tiers and (offer.tier_category or "PIZZA") not in known:
        raise DomainError(
            f"There is no top-level category {offer.tier_category!r}.",
            code="INVALID_CATEGORY",
            field="tierCategory",
        )


def _check_conditions(
    *,
    starts_at: datetime,
    ends_at: datetime | None,
    service_methods: Sequence[str],
    minimum_subtotal: int,
) -> list[str]:
    if minimum_subtotal < 0:
        raise DomainError(
            "minimumSubtotal cannot be negative.", code="INVALID_PRICE", field="minimumSubtotal"
        )
    for name, moment in (("startsAt", starts_at), ("endsAt", ends_at)):
        if moment is not None and moment.tzinfo is None:
            raise DomainError("Give times with a UTC offset.", code="INVALID_VALIDITY", field=name)
    if ends_at is not None and ends_at <= starts_at:
        raise DomainError(
            "The coupon must end after it starts.", code="INVALID_VALIDITY", field="endsAt"
        )
    methods = list(dict.fromkeys(service_methods))
    if not methods or set(methods) - set(SERVICE_METHODS):
        raise DomainError(
            "Name at least one service method.",
            code="INVALID_SERVICE_METHODS",
            field="serviceMethods",
        )
    return methods


def _set_offer(coupon: Coupon, offer: CouponOffer) -> None:
    coupon.percent_off = offer.percent_off
    coupon.amount_off = offer.amount_off
    coupon.bundle_price = offer.bundle_price
    coupon.bundle_items = [i.to_json() for i in offer.bundle_items] or None
    coupon.tiers = [t.to_json() for t in offer.tiers] or None
    coupon.tier_category = (offer.tier_category or "PIZZA") if offer.tiers else None


def coupon_offer(coupon: Coupon) -> CouponOffer:
    """The offer a coupon row holds."""
    return CouponOffer(
        percent_off=coupon.percent_off,
        amount_off=coupon.amount_off,
        bundle_price=coupon.bundle_price,
        bundle_items=coupons.bundle_items(coupon),
        tiers=coupons.tiers(coupon),
        tier_category=coupon.tier_category,
    )


async def create_coupon(
    *,
    session: AsyncSession,
    code: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
    service_methods: Sequence[str] = SERVICE_METHODS,
    minimum_subtotal: int = 0,
    percent_off: int | None = None,
    amount_off: int | None = None,
    combinable: bool = False,
    description: str = "",
    offer: CouponOffer | None = None,
) -> Coupon:
    """Add a coupon: a percentage (1..100), an amount (cents), a bundle price or tiers.

    ``offer`` carries bundles and tiers; ``percent_off``/``amount_off`` remain as shortcuts.
    """
    code = code.strip().upper()
    if not COUPON_CODE_RE.match(code):
        raise DomainError(
            "A coupon code has 3 to 20 letters or digits.", code="INVALID_CODE", field="code"
        )
    offer = offer or CouponOffer(percent_off=percent_off, amount_off=amount_off)
    _check_offer(offer)
    methods = _check_conditions(
        starts_at=starts_at,
        ends_at=ends_at,
        service_methods=service_methods,
        minimum_subtotal=minimum_subtotal,
    )
    await _check_category_codes(session, offer)
    if await session.scalar(select(Coupon.id).where(Coupon.code == code)):
        raise Conflict(f"A coupon {code} exists already.", code="CODE_TAKEN", field="code")
    coupon = Coupon(
        id=new_id("cpn"),
        code=code,
        description=description.strip(),
        starts_at=starts_at,
        ends_at=ends_at,
        service_methods=",".join(methods),
        minimum_subtotal=minimum_subtotal,
        combinable=combinable,
        active=True,
        created_at=utcnow(),
    )
    _set_offer(coupon, offer)
    session.add(coupon)
    await session.flush()
    return coupon


async def update_coupon(
    *,
    session: AsyncSession,
    coupon_id: str,
    description: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    clear_ends_at: bool = False,
    service_methods: Sequence[str] | None = None,
    minimum_subtotal: int | None = None,
    combinable: bool | None = None,
    active: bool | None = None,
    offer: CouponOffer | None = None,
) -> Coupon:
    """Change a coupon's conditions, offer or active state; the code stays.

    ``clear_ends_at`` removes the end (valid with no end). The result is checked as a
    whole (an end before the start is refused even when only one of them changes).
    """
    coupon = await session.get(Coupon, coupon_id)
    if coupon is None:
        raise NotFound(f"No coupon has id {coupon_id!r}.", field="couponId")
    new_start = starts_at if starts_at is not None else coupon.starts_at
    new_end = None if clear_ends_at else (ends_at if ends_at is not None else coupon.ends_at)
    methods = _check_conditions(
        starts_at=new_start,
        ends_at=new_end,
        service_methods=service_methods
        if service_methods is not None
        else coupon.service_method_list,
        minimum_subtotal=minimum_subtotal
        if minimum_subtotal is not None
        else coupon.minimum_subtotal,
    )
    if offer is not None:
        _check_offer(offer)
        await _check_category_codes(session, offer)
        _set_offer(coupon, offer)
    coupon.starts_at, coupon.ends_at = new_start, new_end
    coupon.service_methods = ",".join(methods)
    if minimum_subtotal is not None:
        coupon.minimum_subtotal = minimum_subtotal
    if description is not None:
        coupon.description = description.strip()
    if combinable is not None:
        coupon.combinable = combinable
    if active is not None:
        coupon.active = active
    await session.flush()
    return coupon


async def list_coupons(*, session: AsyncSession) -> list[Coupon]:
    """Every coupon, newest validity first."""
    return list(
        await session.scalars(select(Coupon).order_by(Coupon.starts_at.desc(), Coupon.code))
    )


async def find_coupon(*, session: AsyncSession, code: str, field: str = "couponCode") -> Coupon:
    """The coupon with ``code`` (any case); COUPON_NOT_FOUND otherwise."""
    coupon = await session.scalar(select(Coupon).where(Coupon.code == code.strip().upper()))
    if coupon is None:
        raise NotFound(f"There is no coupon {code!r}.", code="COUPON_NOT_FOUND", field=field)
    return coupon


def coupon_discount(*, coupon: Coupon, now: datetime, service_method: str, subtotal: int) -> int:
    """What a percentage or fixed-amount ``coupon`` takes off ``subtotal`` (cents), or why not.

    Percentages round half up to the cent; a fixed amount never exceeds the subtotal.
    Bundles and tiers need the cart's items: see :func:`quote_coupons`.
    """
    coupons.check_conditions(
        coupon, now=now, service_method=service_method, subtotal=subtotal, field="couponCode"
    )
    if coupon.percent_off is not None:
        return coupons.percent_of(subtotal, coupon.percent_off)
    return min(coupon.amount_off or 0, subtotal)


def check_combinable(coupon_rows: Sequence[Coupon]) -> None:
    """Several coupons on one order only when every one of them is combinable."""
    coupons.check_combinable(coupon_rows)


@dataclass(frozen=True, slots=True)
class CouponQuote:
    """What the coupons take off a cart: one discount per code, and their sum."""

    subtotal: int
    discounts: list[coupons.AppliedDiscount]

    @property
    def total(self) -> int:
        return sum(d.amount for d in self.discounts)


async def quote_coupons(
    *,
    session: AsyncSession,
    store_id: str,
    service_method: str,
    codes: Sequence[str],
    lines: Sequence[pricing.LineRequest],
    now: datetime,
) -> CouponQuote:
    """Price ``lines`` at the store and apply ``codes`` (errors name ``codes[i]``).

    The same code twice counts once. Validity is judged at ``now`` (the order's time).
    """
    store_id = require_store_id(store_id)
    if len(codes) > coupons.MAX_CODES:
        raise DomainError(
            f"At most {coupons.MAX_CODES} coupons per order.",
            code="TOO_MANY_COUPONS",
            field="codes",
        )
    if len(lines) > pricing.MAX_LINES:
        raise DomainError(
            f"A cart holds at most {pricing.MAX_LINES} lines.", code="TOO_MANY_LINES", field="lines"
        )
    unique = list(dict.fromkeys(c.strip().upper() for c in codes if c.strip()))
    rows = [
        await find_coupon(session=session, code=code, field=f"codes[{i}]")
        for i, code in enumerate(unique)
    ]
    menu = await load_menu_snapshot(
        session=session, store_id=store_id, variant_ids=[line.variant_id for line in lines]
    )
    priced = pricing.price_lines(lines=lines, menu=menu)
    units = coupons.cart_units(lines=lines, priced=priced, menu=menu)
    discounts = coupons.quote(
        rows, units=units, subtotal=priced.subtotal, now=now, service_method=service_method
    )
    return CouponQuote(subtotal=priced.subtotal, discounts=discounts)
