"""GraphQL schema of the menu subgraph: queries (``menu``, ``product``, ``priceLines``,
``quoteCoupons``, ``coupons``) and the admin mutations.

Thin: resolvers convert inputs, check the caller's role, call ``service`` and map
rows to the types of :mod:`subgraphs.menu.types`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import RequiresScopes

from shared.auth import require_principal, require_role
from shared.db import utcnow
from shared.gql_types import OrderLineInput, ServiceMethod, ToppingAmount
from shared.subgraph import create_schema
from subgraphs.menu import coupons, models, pricing, service
from subgraphs.menu.types import (
    AppliedCoupon,
    Coupon,
    CouponQuote,
    Crust,
    Ctx,
    Menu,
    PricedLine,
    PricedLines,
    Product,
    Store,
    Topping,
    Variant,
    as_money,
)


def _line_request(line: OrderLineInput) -> pricing.LineRequest:
    instructions = line.instructions
    return pricing.LineRequest(
        variant_id=str(line.variant_id),
        quantity=line.quantity,
        toppings=tuple(
            pricing.ToppingChoice(t.topping_code, t.placement.name, t.amount.name)
            for t in line.toppings or ()
        ),
        bake=instructions.bake.name if instructions else "NORMAL",
        cut=instructions.cut.name if instructions else "PIE",
        seasoning=instructions.seasoning if instructions else True,
    )


@strawberry.type(description="Reading the menu and pricing carts.")
class Query:
    @strawberry.field(description="The menu of one store, with its availability.")
    def menu(
        self, store_id: Annotated[strawberry.ID, strawberry.argument(description="The store.")]
    ) -> Menu:
        return Menu(store_id=strawberry.ID(service.require_store_id(str(store_id))))

    @strawberry.field(description="A product by id; with storeId, availability is the store's.")
    async def product(
        self,
        info: Ctx,
        id: Annotated[strawberry.ID, strawberry.argument(description="The product.")],
        store_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Show availability at this store."),
        ] = None,
    ) -> Product | None:
        row = await info.context.loaders.product.load(str(id))
        return Product.from_row(row, store_id=str(store_id) if store_id else None) if row else None

    @strawberry.field(
        description="Validate every line's customization against a store's menu and price it "
        "(orders calls this; carts may too). Errors name the line in extensions.field."
    )
    async def price_lines(
        self,
        info: Ctx,
        store_id: Annotated[strawberry.ID, strawberry.argument(description="The store.")],
        lines: Annotated[
            list[OrderLineInput], strawberry.argument(description="The cart's lines.")
        ],
    ) -> PricedLines:
        async with info.context.db.session() as session:
            result = await service.price_lines(
                session=session, store_id=str(store_id), lines=[_line_request(x) for x in lines]
            )
        return PricedLines(
            lines=[PricedLine.from_result(x) for x in result.lines],
            subtotal=as_money(result.subtotal),
        )

    @strawberry.field(
        description="Apply coupon codes to a cart (orders calls this; carts may too): validates "
        "each code (COUPON_NOT_FOUND, COUPON_EXPIRED, COUPON_NOT_YET_VALID, "
        "COUPON_MINIMUM_NOT_MET, COUPON_WRONG_SERVICE_METHOD, COUPONS_NOT_COMBINABLE, "
        "COUPON_NOT_APPLICABLE, with extensions.field codes[i]) and says what each takes off."
    )
    async def quote_coupons(
        self,
        info: Ctx,
        store_id: Annotated[strawberry.ID, strawberry.argument(description="The store.")],
        service_method: Annotated[
            ServiceMethod, strawberry.argument(description="Delivery or carryout.")
        ],
        codes: Annotated[
            list[str], strawberry.argument(description="Coupon codes, at most 5 (any case).")
        ],
        lines: Annotated[
            list[OrderLineInput], strawberry.argument(description="The cart's lines.")
        ],
        at: Annotated[
            datetime | None,
            strawberry.argument(description="When the order is placed; null: now."),
        ] = None,
    ) -> CouponQuote:
        async with info.context.db.session() as session:
            quote = await service.quote_coupons(
                session=session,
                store_id=str(store_id),
                service_method=service_method.value,
                codes=codes,
                lines=[_line_request(x) for x in lines],
                now=at or utcnow(),
            )
        return CouponQuote(
            subtotal=as_money(quote.subtotal),
            discounts=[
                AppliedCoupon(code=d.code, description=d.description, amount=as_money(d.amount))
                for d in quote.discounts
            ],
            total=as_money(quote.total),
        )

    @strawberry.field(description="Every coupon (admin).")
    async def coupons(self, info: Ctx) -> list[Coupon]:
        require_role(info.context.principal, "ADMIN")
        async with info.context.db.session() as session:
            return [Coupon.from_row(c) for c in await service.list_coupons(session=session)]


@strawberry.input(description="A variant of a new product.")
class VariantInput:
    code: str = strawberry.field(description="Unique code, e.g. CALZONE-14-HT.")
    price: int = strawberry.field(description="Price in minor units.")
    name: str | None = strawberry.field(
        default=None, description='Display name; pizzas default to e.g. 14" Hand Tossed.'
    )
    size: int | None = strawberry.field(default=None, description="Inches; pizzas only.")
    crust: Crust | None = strawberry.field(default=None, description="Crust; pizzas only.")


@strawberry.input(description="A topping a new pizza comes with.")
class DefaultToppingInput:
    topping_code: str = strawberry.field(description="The topping's code.")
    amount: ToppingAmount = strawberry.field(
        default=ToppingAmount.NORMAL, description="How much of it."
    )


@strawberry.input(description="A new product with its variants.")
class CreateProductInput:
    code: str = strawberry.field(description="Unique code, e.g. CALZONE.")
    name: str = strawberry.field(description="Display name.")
    category_id: strawberry.ID = strawberry.field(description="The (sub-)category to list it in.")
    is_pizza: bool = strawberry.field(description="A pizza: sized, takes toppings.")
    variants: list[VariantInput] = strawberry.field(description="1 to 20 variants.")
    description: str = strawberry.field(default="", description="What is in it.")
    image_url: str | None = strawberry.field(default=None, description="Picture for the menu.")
    default_toppings: list[DefaultToppingInput] = strawberry.field(
        default_factory=list, description="Toppings it comes with (pizzas only)."
    )


@strawberry.input(description="A new price for one variant.")
class VariantPriceInput:
    variant_id: strawberry.ID = strawberry.field(description="The variant.")
    price: int = strawberry.field(description="New price in minor units.")


@strawberry.input(description="Changes to a product; omitted fields stay as they are.")
class UpdateProductInput:
    product_id: strawberry.ID = strawberry.field(description="The product to change.")
    name: str | None = strawberry.field(default=None, description="New display name.")
    description: str | None = strawberry.field(default=None, description="New description.")
    image_url: str | None = strawberry.field(default=None, description="New picture; empty clears.")
    active: bool | None = strawberry.field(default=None, description="Put on or take off sale.")
    variant_prices: list[VariantPriceInput] | None = strawberry.field(
        default=None, description="New prices of some of its variants."
    )


@strawberry.input(description="Whether a store sells one variant or has one topping.")
class SetAvailabilityInput:
    store_id: strawberry.ID = strawberry.field(description="The store.")
    available: bool = strawberry.field(description="Sold (true) or not (false).")
    variant_id: strawberry.ID | None = strawberry.field(
        default=None, description="The variant (or give toppingCode)."
    )
    topping_code: str | None = strawberry.field(
        default=None, description="The topping (or give variantId)."
    )


@strawberry.input(description="One part of a bundle: how many units of which items.")
class CouponBundleItemInput:
    category_code: str = strawberry.field(description="Top-level category, e.g. PIZZA.")
    quantity: int = strawberry.field(default=1, description="How many units, 1 to 25.")
    size: int | None = strawberry.field(
        default=None, description="Pizza size in inches; omit: any size."
    )
    max_toppings: int | None = strawberry.field(
        default=None, description="At most this many meat or veggie toppings; omit: any."
    )


@strawberry.input(description="A bundle offer: these items for one price.")
class CouponBundleInput:
    price: int = strawberry.field(description="Price of the bundle in minor units.")
    items: list[CouponBundleItemInput] = strawberry.field(description="1 to 10 parts.")


@strawberry.input(description="A quantity threshold and the percentage it earns.")
class CouponTierInput:
    min_quantity: int = strawberry.field(description="Units needed, e.g. 4.")
    percent_off: int = strawberry.field(description="Percentage off those units, 1 to 100.")


def _offer(
    *,
    percent_off: int | None,
    amount_off: int | None,
    bundle: CouponBundleInput | None,
    tiers: list[CouponTierInput] | None,
    tier_category: str | None,
) -> service.CouponOffer:
    return service.CouponOffer(
        percent_off=percent_off,
        amount_off=amount_off,
        bundle_price=bundle.price if bundle else None,
        bundle_items=[
            coupons.BundleItem(
                category_code=i.category_code.strip().upper(),
                quantity=i.quantity,
                size=i.size,
                max_toppings=i.max_toppings,
            )
            for i in (bundle.items if bundle else ())
        ],
        tiers=[coupons.Tier(t.min_quantity, t.percent_off) for t in tiers or ()],
        tier_category=tier_category.strip().upper() if tier_category else None,
    )


@strawberry.input(description="A new coupon: give one of percentOff, amountOff, bundle or tiers.")
class CreateCouponInput:
    code: str = strawberry.field(description="3 to 20 letters or digits, e.g. WELCOME10.")
    starts_at: datetime = strawberry.field(description="Valid from this time (UTC offset needed).")
    ends_at: datetime | None = strawberry.field(
        default=None, description="Valid until; null: no end."
    )
    service_methods: list[ServiceMethod] = strawberry.field(
        default_factory=lambda: [ServiceMethod.DELIVERY, ServiceMethod.CARRYOUT],
        description="Where it applies.",
    )
    minimum_subtotal: int = strawberry.field(default=0, description="Least subtotal, minor units.")
    percent_off: int | None = strawberry.field(default=None, description="1 to 100 percent off.")
    amount_off: int | None = strawberry.field(default=None, description="Minor units off.")
    bundle: CouponBundleInput | None = strawberry.field(
        default=None, description="A bundle price, e.g. 2 medium 2-topping pizzas for 15.98."
    )
    tiers: list[CouponTierInput] | None = strawberry.field(
        default=None, description="Quantity tiers, e.g. 4+ pizzas 10%, 7+ 15%."
    )
    tier_category: str | None = strawberry.field(
        default=None, description="Category the tiers count; default PIZZA."
    )
    combinable: bool = strawberry.field(default=False, description="Usable with other coupons.")
    description: str = strawberry.field(default="", description="The offer in words.")


@strawberry.input(
    description="Changes to a coupon; omitted fields stay. A new offer (percentOff, amountOff, "
    "bundle or tiers) replaces the old one."
)
class UpdateCouponInput:
    coupon_id: strawberry.ID = strawberry.field(description="The coupon to change.")
    description: str | None = strawberry.field(default=None, description="The offer in words.")
    starts_at: datetime | None = strawberry.field(default=None, description="New start.")
    ends_at: datetime | None = strawberry.field(default=None, description="New end.")
    clear_ends_at: bool = strawberry.field(
        default=False, description="Remove the end: valid with no end date."
    )
    service_methods: list[ServiceMethod] | None = strawberry.field(
        default=None, description="Where it applies."
    )
    minimum_subtotal: int | None = strawberry.field(
        default=None, description="Least subtotal, minor units."
    )
    percent_off: int | None = strawberry.field(default=None, description="1 to 100 percent off.")
    amount_off: int | None = strawberry.field(default=None, description="Minor units off.")
    bundle: CouponBundleInput | None = strawberry.field(default=None, description="A bundle.")
    tiers: list[CouponTierInput] | None = strawberry.field(
        default=None, description="Quantity tiers."
    )
    tier_category: str | None = strawberry.field(
        default=None, description="Category the tiers count; default PIZZA."
    )
    combinable: bool | None = strawberry.field(
        default=None, description="Usable with other coupons."
    )
    active: bool | None = strawberry.field(
        default=None, description="False withdraws the coupon; true brings it back."
    )


@strawberry.input(description="Which coupon to withdraw.")
class DeactivateCouponInput:
    coupon_id: strawberry.ID = strawberry.field(description="The coupon.")


@strawberry.type(description="Result of createProduct.")
class CreateProductPayload:
    product: Product = strawberry.field(description="The new product.")


@strawberry.type(description="Result of updateProduct.")
class UpdateProductPayload:
    product: Product = strawberry.field(description="The changed product.")


@strawberry.type(description="Result of setAvailability.")
class SetAvailabilityPayload:
    store_id: strawberry.ID = strawberry.field(description="The store.")
    variant: Variant | None = strawberry.field(description="The variant changed, if any.")
    topping: Topping | None = strawberry.field(description="The topping changed, if any.")


@strawberry.type(description="Result of createCoupon.")
class CreateCouponPayload:
    coupon: Coupon = strawberry.field(description="The new coupon.")


@strawberry.type(description="Result of updateCoupon.")
class UpdateCouponPayload:
    coupon: Coupon = strawberry.field(description="The changed coupon.")


@strawberry.type(description="Result of deactivateCoupon.")
class DeactivateCouponPayload:
    coupon: Coupon = strawberry.field(description="The withdrawn coupon.")


@strawberry.type(description="Managing the menu (admin).")
class Mutation:
    @strawberry.mutation(
        description="Add a product with its variants (admin).",
        directives=[RequiresScopes(scopes=[["menu:write"]])],
    )
    async def create_product(
        self,
        info: Ctx,
        input: Annotated[CreateProductInput, strawberry.argument(description="What to change.")],
    ) -> CreateProductPayload:
        require_role(info.context.principal, "ADMIN")
        async with info.context.db.session() as session:
            product = await service.create_product(
                session=session,
                code=input.code,
                name=input.name,
                category_id=str(input.category_id),
                is_pizza=input.is_pizza,
                description=input.description,
                image_url=input.image_url,
                variants=[
                    service.VariantSpec(
                        code=v.code,
                        price=v.price,
                        name=v.name,
                        size=v.size,
                        crust=v.crust.name if v.crust else None,
                    )
                    for v in input.variants
                ],
                default_toppings=[
                    service.DefaultToppingSpec(topping_code=d.topping_code, amount=d.amount.name)
                    for d in input.default_toppings
                ],
            )
            await session.commit()
        return CreateProductPayload(product=Product.from_row(product))

    @strawberry.mutation(
        description="Change a product's texts, sale status or prices (admin).",
        directives=[RequiresScopes(scopes=[["menu:write"]])],
    )
    async def update_product(
        self,
        info: Ctx,
        input: Annotated[UpdateProductInput, strawberry.argument(description="What to change.")],
    ) -> UpdateProductPayload:
        require_role(info.context.principal, "ADMIN")
        async with info.context.db.session() as session:
            product = await service.update_product(
                session=session,
                product_id=str(input.product_id),
                name=input.name,
                description=input.description,
                image_url=input.image_url,
                active=input.active,
                variant_prices=[(str(p.variant_id), p.price) for p in input.variant_prices or ()],
            )
            await session.commit()
        return UpdateProductPayload(product=Product.from_row(product))

    @strawberry.mutation(
        description="Mark a variant or a topping (un)available at a store (admin, or its staff)."
    )
    async def set_availability(
        self,
        info: Ctx,
        input: Annotated[SetAvailabilityInput, strawberry.argument(description="What to change.")],
    ) -> SetAvailabilityPayload:
        principal = require_principal(info.context.principal)
        store_id = str(input.store_id)
        async with info.context.db.session() as session:
            changed = await service.set_availability(
                session=session,
                principal=principal,
                store_id=store_id,
                available=input.available,
                variant_id=str(input.variant_id) if input.variant_id is not None else None,
                topping_code=input.topping_code,
            )
            await session.commit()
        if isinstance(changed, models.Variant):
            variant = Variant.from_row(changed, available=input.available, store_id=store_id)
            return SetAvailabilityPayload(store_id=input.store_id, variant=variant, topping=None)
        topping = Topping.from_row(changed, available=input.available)
        return SetAvailabilityPayload(store_id=input.store_id, variant=None, topping=topping)

    @strawberry.mutation(
        description="Add a coupon (admin).",
        directives=[RequiresScopes(scopes=[["menu:write"]])],
    )
    async def create_coupon(
        self,
        info: Ctx,
        input: Annotated[CreateCouponInput, strawberry.argument(description="What to change.")],
    ) -> CreateCouponPayload:
        require_role(info.context.principal, "ADMIN")
        async with info.context.db.session() as session:
            coupon = await service.create_coupon(
                session=session,
                code=input.code,
                description=input.description,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                service_methods=[m.name for m in input.service_methods],
                minimum_subtotal=input.minimum_subtotal,
                combinable=input.combinable,
                offer=_offer(
                    percent_off=input.percent_off,
                    amount_off=input.amount_off,
                    bundle=input.bundle,
                    tiers=input.tiers,
                    tier_category=input.tier_category,
                ),
            )
            await session.commit()
        return CreateCouponPayload(coupon=Coupon.from_row(coupon))

    @strawberry.mutation(
        description="Change a coupon's conditions, offer or active state (admin).",
        directives=[RequiresScopes(scopes=[["menu:write"]])],
    )
    async def update_coupon(
        self,
        info: Ctx,
        input: Annotated[UpdateCouponInput, strawberry.argument(description="What to change.")],
    ) -> UpdateCouponPayload:
        require_role(info.context.principal, "ADMIN")
        new_offer = any(
            x is not None for x in (input.percent_off, input.amount_off, input.bundle, input.tiers)
        )
        async with info.context.db.session() as session:
            coupon = await service.update_coupon(
                session=session,
                coupon_id=str(input.coupon_id),
                description=input.description,
                starts_at=input.starts_at,
                ends_at=input.ends_at,
                clear_ends_at=input.clear_ends_at,
                service_methods=[m.value for m in input.service_methods]
                if input.service_methods is not None
                else None,
                minimum_subtotal=input.minimum_subtotal,
                combinable=input.combinable,
                active=input.active,
                offer=_offer(
                    percent_off=input.percent_off,
                    amount_off=input.amount_off,
                    bundle=input.bundle,
                    tiers=input.tiers,
                    tier_category=input.tier_category,
                )
                if new_offer
                else None,
            )
            await session.commit()
        return UpdateCouponPayload(coupon=Coupon.from_row(coupon))

    @strawberry.mutation(
        description="Withdraw a coupon: it stays listed but no cart can use it (admin).",
        directives=[RequiresScopes(scopes=[["menu:write"]])],
    )
    async def deactivate_coupon(
        self,
        info: Ctx,
        input: Annotated[DeactivateCouponInput, strawberry.argument(description="The coupon.")],
    ) -> DeactivateCouponPayload:
        require_role(info.context.principal, "ADMIN")
        async with info.context.db.session() as session:
            coupon = await service.update_coupon(
                session=session, coupon_id=str(input.coupon_id), active=False
            )
            await session.commit()
        return DeactivateCouponPayload(coupon=Coupon.from_row(coupon))


schema = create_schema(query=Query, mutation=Mutation, types=(Product, Store))
