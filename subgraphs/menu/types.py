"""GraphQL types of the menu subgraph: ``Product`` (entity owner), ``Store`` (stub), the menu tree.

Types that depend on a store (availability) carry the store id down the tree;
without a store (``product(id)``, ``_entities``) a variant is available when
its product is on sale and every topping is available. Every field that reaches
another table goes through the request's DataLoaders.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from shared.gql_types import Money, ServiceMethod, ToppingAmount, money
from shared.subgraph import SubgraphContext
from subgraphs.menu import coupons, models, pricing
from subgraphs.menu.service import CURRENCY

Ctx = Info[SubgraphContext, None]


def as_money(amount: int) -> Money:
    """An amount in the menu's currency."""
    return money(amount, CURRENCY)


@strawberry.enum(description="The dough and style of a pizza's crust.")
class Crust(Enum):
    HAND_TOSSED = strawberry.enum_value("HAND_TOSSED", description="Classic hand-stretched dough.")
    THIN = strawberry.enum_value("THIN", description="Thin and crispy.")
    PAN = strawberry.enum_value("PAN", description="Thick, baked in an oiled pan.")
    GLUTEN_FREE = strawberry.enum_value("GLUTEN_FREE", description="Dough made without gluten.")


@strawberry.enum(description="The kind of a topping; sauces are exclusive (one per pizza).")
class ToppingGroup(Enum):
    SAUCE = strawberry.enum_value("SAUCE", description="The sauce under the cheese.")
    CHEESE = strawberry.enum_value("CHEESE", description="Cheeses.")
    MEAT = strawberry.enum_value("MEAT", description="Meats.")
    VEGGIE = strawberry.enum_value("VEGGIE", description="Vegetables and fruit.")


@strawberry.type(description="The price of one whole-pizza portion of a topping on one size.")
class ToppingPrice:
    size: int = strawberry.field(description="Pizza size in inches (10, 12, 14 or 16).")
    price: Money = strawberry.field(description="Price of one portion; a half costs half.")


@strawberry.type(description="A topping a pizza can carry.")
class Topping:
    code: str = strawberry.field(description="Stable code used in orders, e.g. MUSHROOMS.")
    name: str = strawberry.field(description="Display name.")
    group: ToppingGroup = strawberry.field(description="Sauce, cheese, meat or veggie.")
    whole_only: bool = strawberry.field(description="Goes on the whole pizza only, not a half.")
    exclusive: bool = strawberry.field(description="At most one topping of its group per pizza.")
    available: bool = strawberry.field(description="The store has it now.")
    _id: strawberry.Private[str]

    @strawberry.field(description="Price of one portion per pizza size.")
    async def prices(self, info: Ctx) -> list[ToppingPrice]:
        rows = await info.context.loaders.topping_prices.load(self._id)
        return [ToppingPrice(size=r.size_inches, price=as_money(r.price)) for r in rows]

    @classmethod
    def from_row(cls, row: models.Topping, *, available: bool = True) -> Topping:
        return cls(
            _id=row.id,
            code=row.code,
            name=row.name,
            group=ToppingGroup(row.group),
            whole_only=row.whole_only,
            exclusive=row.exclusive,
            available=available,
        )


async def _unavailable_toppings(info: Ctx, store_id: str | None) -> frozenset[str]:
    if store_id is None:
        return frozenset()
    return await info.context.loaders.unavailable_toppings.load(store_id)


@strawberry.type(description="A topping a product comes with, on the whole pizza.")
class DefaultTopping:
    topping: Topping = strawberry.field(description="The topping.")
    amount: ToppingAmount = strawberry.field(description="How much of it, usually NORMAL.")


@strawberry.type(description="A product in one size and crust (or pack size), with its price.")
class Variant:
    id: strawberry.ID = strawberry.field(description="Opaque id; what an order line names.")
    code: str = strawberry.field(description="Stable code, e.g. PEPPERONI-14-HT.")
    name: str = strawberry.field(description='Display name, e.g. 14" Hand Tossed or 8 pieces.')
    size: int | None = strawberry.field(description="Pizza size in inches; null for non-pizzas.")
    crust: Crust | None = strawberry.field(description="Pizza crust; null for non-pizzas.")
    price: Money = strawberry.field(description="Price before toppings beyond the defaults.")
    available: bool = strawberry.field(description="The store sells it now.")
    _product_id: strawberry.Private[str]
    _store_id: strawberry.Private[str | None]

    @strawberry.field(description="The product this is a variant of.")
    async def product(self, info: Ctx) -> Product:
        row = await info.context.loaders.product.load(self._product_id)
        return Product.from_row(row, store_id=self._store_id)

    @classmethod
    def from_row(
        cls, row: models.Variant, *, available: bool, store_id: str | None = None
    ) -> Variant:
        return cls(
            id=strawberry.ID(row.id),
            code=row.code,
            name=row.name,
            size=row.size_inches,
            crust=Crust(row.crust) if row.crust else None,
            price=as_money(row.price),
            available=available,
            _product_id=row.product_id,
            _store_id=store_id,
        )


@strawberry.federation.type(keys=["id"], description="Something on the menu, e.g. Pepperoni Pizza.")
class Product:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    code: str = strawberry.field(description="Stable code, e.g. PEPPERONI.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What is in it, for the menu.")
    is_pizza: bool = strawberry.field(
        description="A pizza: sized, takes toppings and instructions."
    )
    image_url: str | None = strawberry.field(description="Picture for the menu, if any.")
    active: bool = strawberry.field(description="On sale; inactive products leave the menus.")
    _category_id: strawberry.Private[str]
    _store_id: strawberry.Private[str | None]

    @strawberry.field(description="The (sub-)category it is listed in.")
    async def category(self, info: Ctx) -> Category:
        row = await info.context.loaders.category.load(self._category_id)
        return Category.from_row(row, store_id=self._store_id)

    @strawberry.field(description="Sizes and crusts with prices and availability at the store.")
    async def variants(self, info: Ctx) -> list[Variant]:
        rows = await info.context.loaders.variants_by_product.load(str(self.id))
        unavailable: frozenset[str] = frozenset()
        if self._store_id is not None:
            unavailable = await info.context.loaders.unavailable_variants.load(self._store_id)
        return [
            Variant.from_row(
                r, available=self.active and r.id not in unavailable, store_id=self._store_id
            )
            for r in rows
        ]

    @strawberry.field(description="Toppings it comes with; orders may remove or change them.")
    async def default_toppings(self, info: Ctx) -> list[DefaultTopping]:
        rows = await info.context.loaders.default_toppings.load(str(self.id))
        toppings = await info.context.loaders.topping.load_many([r.topping_id for r in rows])
        unavailable = await _unavailable_toppings(info, self._store_id)
        return [
            DefaultTopping(
                topping=Topping.from_row(t, available=t.id not in unavailable),
                amount=ToppingAmount(r.amount),
            )
            for r, t in zip(rows, toppings, strict=True)
            if t is not None
        ]

    @classmethod
    def from_row(cls, row: models.Product, *, store_id: str | None = None) -> Product:
        return cls(
            id=strawberry.ID(row.id),
            code=row.code,
            name=row.name,
            description=row.description,
            is_pizza=row.is_pizza,
            image_url=row.image_url,
            active=row.active,
            _category_id=row.category_id,
            _store_id=store_id,
        )

    @classmethod
    async def resolve_reference(cls, info: Ctx, id: strawberry.ID) -> Product | None:
        row = await info.context.loaders.product.load(str(id))
        return cls.from_row(row) if row else None


@strawberry.type(description="A section of the menu, e.g. Pizza or its sub-category Specialty.")
class Category:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    code: str = strawberry.field(description="Stable code, e.g. PIZZA, SPECIALTY, SIDES.")
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="A line for the menu.")
    _parent_id: strawberry.Private[str | None]
    _store_id: strawberry.Private[str | None]

    @strawberry.field(description="The category above this one; null at the top.")
    async def parent(self, info: Ctx) -> Category | None:
        if self._parent_id is None:
            return None
        row = await info.context.loaders.category.load(self._parent_id)
        return Category.from_row(row, store_id=self._store_id) if row else None

    @strawberry.field(description="Sub-categories, in menu order.")
    async def subcategories(self, info: Ctx) -> list[Category]:
        rows = await info.context.loaders.categories_by_parent.load(str(self.id))
        return [Category.from_row(r, store_id=self._store_id) for r in rows]

    @strawberry.field(description="Products on sale listed directly in this category.")
    async def products(self, info: Ctx) -> list[Product]:
        rows = await info.context.loaders.products_by_category.load(str(self.id))
        return [Product.from_row(r, store_id=self._store_id) for r in rows if r.active]

    @classmethod
    def from_row(cls, row: models.Category, *, store_id: str | None = None) -> Category:
        return cls(
            id=strawberry.ID(row.id),
            code=row.code,
            name=row.name,
            description=row.description,
            _parent_id=row.parent_id,
            _store_id=store_id,
        )


@strawberry.type(description="What one store sells: categories of products, and toppings.")
class Menu:
    store_id: strawberry.ID = strawberry.field(description="The store this menu is for.")

    @strawberry.field(description="Top-level categories (Pizza, Sides, Drinks, Desserts).")
    async def categories(self, info: Ctx) -> list[Category]:
        rows = await info.context.loaders.categories_by_parent.load(None)
        return [Category.from_row(r, store_id=str(self.store_id)) for r in rows]

    @strawberry.field(description="Every topping, with its availability at the store.")
    async def toppings(self, info: Ctx) -> list[Topping]:
        rows = await info.context.loaders.toppings.load("all")
        unavailable = await _unavailable_toppings(info, str(self.store_id))
        return [Topping.from_row(r, available=r.id not in unavailable) for r in rows]


@strawberry.federation.type(keys=["id"], description="A store of the chain (owned by geo).")
class Store:
    id: strawberry.ID = strawberry.field(description="Opaque id of the store.")

    @strawberry.field(description="The store's menu, with its own availability.")
    def menu(self) -> Menu:
        return Menu(store_id=self.id)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Store:
        return cls(id=id)


@strawberry.type(description="One cart line, validated and priced by the menu.")
class PricedLine:
    index: int = strawberry.field(description="Position of the line in the request (from 0).")
    variant_id: strawberry.ID = strawberry.field(description="The variant ordered.")
    product_id: strawberry.ID = strawberry.field(description="Its product.")
    product_name: str = strawberry.field(description="Product name, e.g. Pepperoni Pizza.")
    variant_name: str = strawberry.field(description='Variant name, e.g. 14" Hand Tossed.')
    category_code: str = strawberry.field(
        description="Top-level category code: PIZZA, SIDES, DRINKS or DESSERTS."
    )
    size: int | None = strawberry.field(description="Pizza size in inches; null for non-pizzas.")
    quantity: int = strawberry.field(description="How many.")
    unit_price: Money = strawberry.field(
        description="Variant price plus toppings beyond the defaults (a half counts half, "
        "rounded half up to the cent once per unit)."
    )
    line_total: Money = strawberry.field(description="Unit price times quantity.")
    description: str = strawberry.field(
        description='Receipt text, e.g. 14" Hand Tossed Pepperoni Pizza — left: mushrooms.'
    )

    @classmethod
    def from_result(cls, line: pricing.PricedLine) -> PricedLine:
        return cls(
            index=line.index,
            variant_id=strawberry.ID(line.variant_id),
            product_id=strawberry.ID(line.product_id),
            product_name=line.product_name,
            variant_name=line.variant_name,
            category_code=line.category_code,
            size=line.size,
            quantity=line.quantity,
            unit_price=as_money(line.unit_price),
            line_total=as_money(line.line_total),
            description=line.description,
        )


@strawberry.type(description="A cart's lines, validated and priced.")
class PricedLines:
    lines: list[PricedLine] = strawberry.field(description="Every line, in request order.")
    subtotal: Money = strawberry.field(description="Sum of the line totals.")


@strawberry.enum(description="What a coupon gives.")
class CouponKind(Enum):
    PERCENT = strawberry.enum_value("PERCENT", description="A percentage off the subtotal.")
    AMOUNT = strawberry.enum_value("AMOUNT", description="A fixed amount off the subtotal.")
    BUNDLE = strawberry.enum_value(
        "BUNDLE", description="A set of items for one price, e.g. 2 medium 2-topping pizzas."
    )
    TIERED = strawberry.enum_value(
        "TIERED", description="A percentage off growing with the quantity, e.g. 4+ pizzas 10%."
    )


@strawberry.type(description="One part of a bundle: how many units of which items.")
class CouponBundleItem:
    category_code: str = strawberry.field(description="Top-level category, e.g. PIZZA, SIDES.")
    quantity: int = strawberry.field(description="How many units.")
    size: int | None = strawberry.field(description="Pizza size in inches; null: any size.")
    max_toppings: int | None = strawberry.field(
        description="At most this many meat or veggie toppings per pizza; null: any."
    )


@strawberry.type(description="A bundle offer: these items for one price.")
class CouponBundle:
    price: Money = strawberry.field(description="What the items cost together.")
    items: list[CouponBundleItem] = strawberry.field(description="What the cart must hold.")


@strawberry.type(description="A quantity threshold and the percentage it earns.")
class CouponTier:
    min_quantity: int = strawberry.field(description="Units of the tier's category needed.")
    percent_off: int = strawberry.field(description="Percentage off those units.")


@strawberry.type(description="A discount code.")
class Coupon:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    code: str = strawberry.field(description="What the customer types, e.g. WELCOME10.")
    description: str = strawberry.field(description="The offer in words.")
    kind: CouponKind = strawberry.field(description="What the coupon gives.")
    starts_at: datetime = strawberry.field(description="Valid from this time.")
    ends_at: datetime | None = strawberry.field(description="Valid until this time; null: no end.")
    service_methods: list[ServiceMethod] = strawberry.field(description="Where it applies.")
    minimum_subtotal: Money = strawberry.field(description="Least items subtotal it needs.")
    percent_off: int | None = strawberry.field(description="Percentage off the subtotal.")
    amount_off: Money | None = strawberry.field(description="Fixed amount off the subtotal.")
    bundle: CouponBundle | None = strawberry.field(description="The bundle offer, if BUNDLE.")
    tiers: list[CouponTier] = strawberry.field(description="Quantity tiers, if TIERED.")
    tier_category: str | None = strawberry.field(
        description="Top-level category whose units the tiers count (TIERED only)."
    )
    combinable: bool = strawberry.field(description="Can be used with other coupons.")
    active: bool = strawberry.field(description="False once withdrawn (deactivated).")

    @classmethod
    def from_row(cls, row: models.Coupon) -> Coupon:
        bundle = (
            CouponBundle(
                price=as_money(row.bundle_price),
                items=[
                    CouponBundleItem(
                        category_code=i.category_code,
                        quantity=i.quantity,
                        size=i.size,
                        max_toppings=i.max_toppings,
                    )
                    for i in coupons.bundle_items(row)
                ],
            )
            if row.bundle_price is not None
            else None
        )
        return cls(
            id=strawberry.ID(row.id),
            code=row.code,
            description=row.description,
            kind=CouponKind(row.kind),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            service_methods=[ServiceMethod(m) for m in row.service_method_list],
            minimum_subtotal=as_money(row.minimum_subtotal),
            percent_off=row.percent_off,
            amount_off=as_money(row.amount_off) if row.amount_off is not None else None,
            bundle=bundle,
            tiers=[
                CouponTier(min_quantity=t.min_quantity, percent_off=t.percent_off)
                for t in coupons.tiers(row)
            ],
            tier_category=row.tier_category,
            combinable=row.combinable,
            active=row.active,
        )


@strawberry.type(description="What one coupon takes off a cart.")
class AppliedCoupon:
    code: str = strawberry.field(description="The coupon's code.")
    description: str = strawberry.field(description="The offer in words.")
    amount: Money = strawberry.field(description="The discount it gives this cart.")


@strawberry.type(description="What coupons take off a cart (quoteCoupons).")
class CouponQuote:
    subtotal: Money = strawberry.field(description="The cart's items subtotal before discounts.")
    discounts: list[AppliedCoupon] = strawberry.field(
        description="One entry per distinct code, in the order given."
    )
    total: Money = strawberry.field(
        description="Sum of the discounts; never more than the subtotal."
    )
