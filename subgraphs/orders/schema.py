"""GraphQL schema of the orders subgraph: queries, inputs and mutations.

Thin: resolvers turn inputs into ``pricing``/``service`` values, call the rules,
commit (with the events staged in the outbox, published once committed) and map rows
to ``types``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.federation.schema_directives import Authenticated, RequiresScopes
from strawberry.types import Info

from shared import live, outbox
from shared.auth import require_principal
from shared.errors import Forbidden
from shared.gql_types import GeoPointInput, OrderLineInput, ServiceMethod
from shared.subgraph import SubgraphContext, create_schema
from subgraphs.orders import admin_schema, events, service
from subgraphs.orders.admin_schema import DateRangeInput, OrderCoupon, SalesReport
from subgraphs.orders.catalog import CartLine, Catalog, SubgraphCatalog
from subgraphs.orders.pricing import Cart, DeliveryAddress, PricedCart, price_cart
from subgraphs.orders.types import (
    After,
    First,
    Order,
    OrderConnection,
    OrderLine,
    OrderStatus,
    PaymentMethodType,
    PriceBreakdown,
    Store,
    User,
)


def catalog_for(info: Info[SubgraphContext, None]) -> Catalog:
    """menu and geo as seen by this request (tests may put a fake in ``extras["catalog"]``)."""
    runtime = info.context.runtime
    fake = runtime.extras.get("catalog")
    if fake is not None:
        return fake
    return SubgraphCatalog(
        settings=runtime.settings,
        peers=runtime.extras.get("peers"),
        authorization=info.context.authorization,
    )


@strawberry.input(description="Where a delivery order goes.")
class OrderDeliveryAddressInput:
    line1: str = strawberry.field(description="Street and number.")
    city: str = strawberry.field(description="City.")
    postcode: str = strawberry.field(description="Postal code.")
    location: GeoPointInput = strawberry.field(description="Coordinates (from geocode).")
    line2: str | None = strawberry.field(default=None, description="Apartment, floor, suite.")
    instructions: str | None = strawberry.field(default=None, description="Notes for the driver.")


@strawberry.input(description="How the customer pays.")
class PaymentMethodInput:
    type: PaymentMethodType = strawberry.field(description="Card, cash or gift card.")
    token: str | None = strawberry.field(
        default=None, description="Gateway token of the card or gift card (not for cash)."
    )


@strawberry.input(description="A cart to check: store, service method, lines and extras.")
class ValidateOrderInput:
    store_id: strawberry.ID = strawberry.field(description="The store that makes the order.")
    service_method: ServiceMethod = strawberry.field(description="Delivery or carryout.")
    lines: list[OrderLineInput] = strawberry.field(description="What to order, at least one.")
    delivery_address: OrderDeliveryAddressInput | None = strawberry.field(
        default=None, description="Where to deliver; required for DELIVERY."
    )
    scheduled_for: datetime | None = strawberry.field(
        default=None, description="A future time, 30 minutes to 7 days ahead; omit for ASAP."
    )
    tip: int = strawberry.field(
        default=0, description="Tip in minor units, 0 or more (where the store takes tips)."
    )
    coupon_code: str | None = strawberry.field(
        default=None, description="A coupon code; menu checks it and prices the discount."
    )
    coupon_codes: list[str] | None = strawberry.field(
        default=None,
        description="More coupon codes (with couponCode at most 5 distinct, all combinable).",
    )


@strawberry.input(description="A cart to price.")
class PriceOrderInput(ValidateOrderInput):
    pass


@strawberry.input(description="A cart to turn into an order.")
class PlaceOrderInput(ValidateOrderInput):
    payment_method: PaymentMethodInput = strawberry.field(description="How the customer pays.")
    idempotency_key: str = strawberry.field(
        description="A key the client generates per checkout; retrying with it returns the "
        "same order instead of placing a second one.",
    )


@strawberry.input(description="Changes to an order that is still PLACED.")
class ModifyOrderInput:
    order_id: strawberry.ID = strawberry.field(description="The order.")
    lines: list[OrderLineInput] | None = strawberry.field(
        default=None, description="New lines replacing all current ones; omit to keep them."
    )
    tip: int | None = strawberry.field(default=None, description="New tip; omit to keep it.")


@strawberry.input(description="Which order to cancel, and why.")
class CancelOrderInput:
    order_id: strawberry.ID = strawberry.field(description="The order.")
    reason: str = strawberry.field(default="", description="Why, in a few words.")


@strawberry.input(description="Which order to move on the tracker.")
class AdvanceOrderInput:
    order_id: strawberry.ID = strawberry.field(description="The order.")
    to: OrderStatus | None = strawberry.field(
        default=None, description="A later stage; omit for the next one."
    )


@strawberry.input(description="Which orders to list.")
class OrderFilter:
    status: OrderStatus | None = strawberry.field(default=None, description="Only this status.")
    store_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this store (staff: their own store)."
    )
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this customer's orders."
    )
    placed_from: datetime | None = strawberry.field(
        default=None, description="Only orders placed at or after this time."
    )
    placed_to: datetime | None = strawberry.field(
        default=None, description="Only orders placed before this time."
    )
    number: str | None = strawberry.field(
        default=None, description="Only the order(s) with this number, e.g. 1125-0042."
    )


@strawberry.type(description="Result of validateOrder: the cart can be placed as it is.")
class ValidateOrderPayload:
    valid: bool = strawberry.field(description="Always true; broken rules come back as errors.")
    lines: list[OrderLine] = strawberry.field(description="The lines as menu understood them.")


@strawberry.type(description="Result of priceOrder.")
class PriceOrderPayload:
    price: PriceBreakdown = strawberry.field(description="What the order would cost.")
    lines: list[OrderLine] = strawberry.field(description="The priced lines.")
    coupons: list[OrderCoupon] = strawberry.field(
        description="The coupons applied and what each takes off (their sum is price.discounts)."
    )


@strawberry.type(description="Result of placeOrder.")
class PlaceOrderPayload:
    order: Order = strawberry.field(description="The order (the same one for a repeated key).")
    coupons: list[OrderCoupon] = strawberry.field(
        description="The coupons applied to the order and what each took off."
    )


@strawberry.type(description="Result of modifyOrder.")
class ModifyOrderPayload:
    order: Order = strawberry.field(description="The re-priced order.")


@strawberry.type(description="Result of cancelOrder.")
class CancelOrderPayload:
    order: Order = strawberry.field(description="The cancelled order.")


@strawberry.type(description="Result of advanceOrder.")
class AdvanceOrderPayload:
    order: Order = strawberry.field(description="The order at its new stage.")


def cart_lines(lines: list[OrderLineInput]) -> list[CartLine]:
    """GraphQL lines as the pricing rules take them."""
    result = []
    for line in lines:
        instructions: dict[str, Any] | None = None
        if line.instructions is not None:
            instructions = {
                "bake": line.instructions.bake.value,
                "cut": line.instructions.cut.value,
                "seasoning": line.instructions.seasoning,
            }
        toppings = (
            [
                {
                    "toppingCode": t.topping_code,
                    "placement": t.placement.value,
                    "amount": t.amount.value,
                }
                for t in line.toppings
            ]
            if line.toppings is not None
            else None
        )
        result.append(
            CartLine(
                variant_id=str(line.variant_id),
                quantity=line.quantity,
                toppings=toppings,
                instructions=instructions,
            )
        )
    return result


def to_cart(input: ValidateOrderInput) -> Cart:
    """The GraphQL input as a :class:`Cart`."""
    address = input.delivery_address
    return Cart(
        store_id=str(input.store_id),
        service_method=input.service_method.value,
        lines=cart_lines(input.lines),
        delivery_address=DeliveryAddress(
            line1=address.line1,
            line2=address.line2,
            city=address.city,
            postcode=address.postcode,
            lat=address.location.lat,
            lng=address.location.lng,
            instructions=address.instructions,
        )
        if address is not None
        else None,
        scheduled_for=input.scheduled_for,
        tip=input.tip,
        coupon_code=input.coupon_code,
        coupon_codes=tuple(input.coupon_codes or ()),
    )


def priced_lines(priced: PricedCart) -> list[OrderLine]:
    """The priced lines with the customization the customer asked for."""
    result = []
    for line in priced.lines:
        asked = priced.cart.lines[line.index]
        custom = {"toppings": asked.toppings or [], "instructions": asked.instructions}
        result.append(OrderLine.from_priced(line, custom))
    return result


async def _priced(info: Info[SubgraphContext, None], input: ValidateOrderInput) -> PricedCart:
    require_principal(info.context.principal)
    return await price_cart(catalog=catalog_for(info), cart=to_cart(input))


async def _publish_live(info: Info[SubgraphContext, None], row: Any) -> None:
    """Tell live subscribers (``orderUpdated``, ``storeOrders``) about a committed change."""
    await live.publish_live(
        info.context.runtime.settings,
        live.order_changed(order_id=row.id, store_id=row.store_id, status=row.status),
    )


@strawberry.type
class Query:
    @strawberry.field(description="An order (its customer, staff of its store, admins).")
    async def order(
        self,
        info: Info[SubgraphContext, None],
        id: Annotated[strawberry.ID, strawberry.argument(description="The order's id.")],
    ) -> Order | None:
        async with info.context.db.session() as session:
            row = await service.read_order(
                session=session, principal=info.context.principal, order_id=str(id)
            )
        return Order.from_row(row)

    @strawberry.field(
        description="Orders, newest first (customers: theirs; staff: their store; admins: all).",
        directives=[Authenticated()],
    )
    async def orders(
        self,
        info: Info[SubgraphContext, None],
        filter: Annotated[
            OrderFilter | None, strawberry.argument(description="Which orders.")
        ] = None,
        first: First = 20,
        after: After = None,
    ) -> OrderConnection:
        filter = filter or OrderFilter()
        store_id, customer_id = service.scope_for_listing(
            info.context.principal,
            store_id=str(filter.store_id) if filter.store_id else None,
            customer_id=str(filter.customer_id) if filter.customer_id else None,
        )
        return await admin_schema.order_search(
            info,
            first=first,
            after=after,
            status=filter.status,
            store_id=store_id,
            customer_id=customer_id,
            placed_from=filter.placed_from,
            placed_to=filter.placed_to,
            number=filter.number,
        )

    @strawberry.field(
        description="Sales of a time range: orders and revenue per hour, day and store, time "
        "per tracker stage, on-time delivery rate, top products (admins; staff: their store).",
        directives=[RequiresScopes(scopes=[["store:manage"]])],
    )
    async def sales_report(
        self,
        info: Info[SubgraphContext, None],
        range: Annotated[DateRangeInput, strawberry.argument(description="The time range.")],
        store_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="One store (staff: their own); null: all."),
        ] = None,
        top: Annotated[
            int, strawberry.argument(description="How many top products, 1 to 50.")
        ] = 10,
    ) -> SalesReport:
        return await admin_schema.sales_report(
            info, range=range, store_id=str(store_id) if store_id else None, top=top
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Check a cart against the menu and the store; no order.")
    async def validate_order(
        self,
        info: Info[SubgraphContext, None],
        input: Annotated[ValidateOrderInput, strawberry.argument(description="The cart to check.")],
    ) -> ValidateOrderPayload:
        priced = await _priced(info, input)
        return ValidateOrderPayload(valid=True, lines=priced_lines(priced))

    @strawberry.mutation(description="Price a cart: subtotal, fees, tax, tip and total; no order.")
    async def price_order(
        self,
        info: Info[SubgraphContext, None],
        input: Annotated[PriceOrderInput, strawberry.argument(description="The cart to price.")],
    ) -> PriceOrderPayload:
        priced = await _priced(info, input)
        return PriceOrderPayload(
            price=PriceBreakdown.from_values(priced.price),
            lines=priced_lines(priced),
            coupons=[OrderCoupon.from_value(c) for c in priced.coupons],
        )

    @strawberry.mutation(
        description="Place an order (idempotent by the client's key).",
        directives=[Authenticated()],
    )
    async def place_order(
        self,
        info: Info[SubgraphContext, None],
        input: Annotated[
            PlaceOrderInput,
            strawberry.argument(description="The cart, payment and idempotency key."),
        ],
    ) -> PlaceOrderPayload:
        runtime = info.context.runtime
        payment = input.payment_method
        async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
            placement = await service.place_order(
                session=session,
                catalog=catalog_for(info),
                principal=info.context.principal,
                cart=to_cart(input),
                payment=service.PaymentChoice(type=payment.type.value, token=payment.token),
                idempotency_key=input.idempotency_key,
            )
            if placement.created:
                await events.stage_order_placed(session, placement.order)
            await session.commit()
        if placement.created:
            await _publish_live(info, placement.order)
        return PlaceOrderPayload(
            order=Order.from_row(placement.order),
            coupons=await admin_schema.stored_coupons(info, placement.order.id),
        )

    @strawberry.mutation(description="Replace the lines or the tip of an order still PLACED.")
    async def modify_order(
        self,
        info: Info[SubgraphContext, None],
        input: Annotated[
            ModifyOrderInput, strawberry.argument(description="The order and its new lines or tip.")
        ],
    ) -> ModifyOrderPayload:
        runtime = info.context.runtime
        async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
            order = await service.modify_order(
                session=session,
                catalog=catalog_for(info),
                principal=info.context.principal,
                order_id=str(input.order_id),
                lines=cart_lines(input.lines) if input.lines is not None else None,
                tip=input.tip,
            )
            await events.stage_order_modified(session, order)
            await session.commit()
        await _publish_live(info, order)
        return ModifyOrderPayload(order=Order.from_row(order))

    @strawberry.mutation(
        description="Cancel an order: the customer while PLACED, staff until it is handed over."
    )
    async def cancel_order(
        self,
        info: Info[SubgraphContext, None],
        input: Annotated[
            CancelOrderInput, strawberry.argument(description="The order and the reason.")
        ],
    ) -> CancelOrderPayload:
        runtime = info.context.runtime
        async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
            change = await service.cancel_order(
                session=session,
                principal=info.context.principal,
                order_id=str(input.order_id),
                reason=input.reason,
            )
            await events.stage_status_changes(session, [change])
            await session.commit()
        await _publish_live(info, change.order)
        return CancelOrderPayload(order=Order.from_row(change.order))

    @strawberry.mutation(description="Move an order to its next tracker stage (store staff).")
    async def advance_order(
        self,
        info: Info[SubgraphContext, None],
        input: Annotated[
            AdvanceOrderInput,
            strawberry.argument(description="The order and, optionally, the stage to go to."),
        ],
    ) -> AdvanceOrderPayload:
        runtime = info.context.runtime
        async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
            change = await service.advance_order(
                session=session,
                principal=info.context.principal,
                order_id=str(input.order_id),
                to=input.to.value if input.to else None,
            )
            await events.stage_status_changes(session, [change])
            await session.commit()
        await _publish_live(info, change.order)
        return AdvanceOrderPayload(order=Order.from_row(change.order))


OrderId = Annotated[strawberry.ID, strawberry.argument(description="The order to follow.")]
StoreId = Annotated[strawberry.ID, strawberry.argument(description="The store to follow.")]


@strawberry.type(description="Live order tracking.")
class Subscription:
    @strawberry.subscription(
        description="The order now and after each change (its customer, staff of its store, "
        "admins); ends once it is DELIVERED, PICKED_UP, CANCELLED or REFUNDED."
    )
    async def order_updated(
        self, info: Info[SubgraphContext, None], order_id: OrderId
    ) -> AsyncGenerator[Order, None]:
        context = info.context
        hub = live.live_hub(context.runtime.settings)
        # Latest state wins: every update re-reads the order, so one slot is enough.
        async with hub.subscribe(live.order_channel(str(order_id)), buffer=1) as updates:
            async with context.db.session() as session:
                row = await service.read_order(
                    session=session, principal=context.principal, order_id=str(order_id)
                )
            yield Order.from_row(row)
            if row.status in service.FINAL_STATUSES:
                return
            async for _ in updates:
                async with context.db.session() as session:
                    row = await service.get_order(session=session, order_id=str(order_id))
                yield Order.from_row(row)
                if row.status in service.FINAL_STATUSES:
                    return

    @strawberry.subscription(
        description="Orders of a store as they are placed and move along (its staff, admins)."
    )
    async def store_orders(
        self, info: Info[SubgraphContext, None], store_id: StoreId
    ) -> AsyncGenerator[Order, None]:
        context = info.context
        caller = require_principal(context.principal)
        if not service.is_store_staff(caller, str(store_id)):
            raise Forbidden("Only staff of the store can follow its orders.")
        hub = live.live_hub(context.runtime.settings)
        async with hub.subscribe(live.store_orders_channel(str(store_id))) as updates:
            async for update in updates:
                async with context.db.session() as session:
                    row = await service.get_order(session=session, order_id=update["orderId"])
                yield Order.from_row(row)


schema = create_schema(
    query=Query, mutation=Mutation, subscription=Subscription, types=(Order, User, Store)
)
