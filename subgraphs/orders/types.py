"""GraphQL types of the orders subgraph: ``Order`` (entity owner) and what it is made of.

Thin: each type is built from a row by ``from_row``; rules live in ``service.py``.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.types import Info

from shared.auth import Principal, require_principal
from shared.errors import DomainError, Forbidden
from shared.gql_types import (
    BakeOption,
    CutOption,
    GeoPoint,
    Money,
    PageInfo,
    Placement,
    ServiceMethod,
    ToppingAmount,
    decode_cursor,
    encode_cursor,
    money,
    page_info,
)
from shared.subgraph import SubgraphContext
from subgraphs.orders import models, service
from subgraphs.orders.catalog import PricedLine
from subgraphs.orders.pricing import PriceBreakdown as PriceValues


@strawberry.enum(description="Where an order stands on the tracker.")
class OrderStatus(Enum):
    PLACED = strawberry.enum_value("PLACED", description="Received; not started yet.")
    PREP = strawberry.enum_value("PREP", description="On the make line.")
    BAKE = strawberry.enum_value("BAKE", description="In the oven.")
    QUALITY_CHECK = strawberry.enum_value(
        "QUALITY_CHECK", description="Checked and boxed on the rack."
    )
    OUT_FOR_DELIVERY = strawberry.enum_value(
        "OUT_FOR_DELIVERY", description="A driver is on the way."
    )
    DELIVERED = strawberry.enum_value("DELIVERED", description="Handed to the customer.")
    READY_FOR_PICKUP = strawberry.enum_value(
        "READY_FOR_PICKUP", description="Waiting at the store for the customer."
    )
    PICKED_UP = strawberry.enum_value("PICKED_UP", description="Collected by the customer.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Cancelled; it will not be made.")
    REFUNDED = strawberry.enum_value("REFUNDED", description="Paid back after completion.")


@strawberry.enum(description="How an order is paid.")
class PaymentMethodType(Enum):
    CARD = strawberry.enum_value("CARD", description="A card, through the payment gateway.")
    CASH = strawberry.enum_value("CASH", description="Cash to the driver or at the counter.")
    GIFT_CARD = strawberry.enum_value("GIFT_CARD", description="A gift card of the chain.")


@strawberry.federation.type(
    directives=[Key(fields="id", resolvable=False)],
    description="A product of the menu (owned by menu).",
)
class Product:
    id: strawberry.ID = strawberry.field(description="Opaque id of the product.")


@strawberry.type(description="A tracker stage the order reached.")
class OrderStage:
    stage: OrderStatus = strawberry.field(description="The stage.")
    at: datetime = strawberry.field(description="When it was reached (UTC).")
    actor: str = strawberry.field(
        description="Who moved it there: a user id, or payments / delivery for automatic moves."
    )


@strawberry.type(description="One topping choice of a line, as ordered.")
class OrderLineTopping:
    topping_code: str = strawberry.field(description="Code of the topping, e.g. PEPPERONI.")
    placement: Placement = strawberry.field(description="Whole pizza or one half.")
    amount: ToppingAmount = strawberry.field(description="How much; NONE removed a default.")


@strawberry.type(description="Cooking instructions of a line, as ordered.")
class OrderLineInstructions:
    bake: BakeOption = strawberry.field(description="Bake option.")
    cut: CutOption = strawberry.field(description="Cut option.")
    seasoning: bool = strawberry.field(description="Garlic seasoning on the crust.")


@strawberry.type(description="One line of an order: a priced snapshot of a product variant.")
class OrderLine:
    product: Product = strawberry.field(description="The product (menu resolves its details).")
    variant_id: strawberry.ID = strawberry.field(description="The variant ordered.")
    product_name: str = strawberry.field(description="Product name when it was priced.")
    variant_name: str = strawberry.field(description="Size and crust when it was priced.")
    description: str = strawberry.field(description="The customization in words.")
    quantity: int = strawberry.field(description="How many.")
    unit_price: Money = strawberry.field(description="Price of one, customization included.")
    line_total: Money = strawberry.field(description="unitPrice x quantity.")
    toppings: list[OrderLineTopping] = strawberry.field(
        description="Topping changes the customer asked for (empty: the defaults)."
    )
    instructions: OrderLineInstructions | None = strawberry.field(
        description="Cooking instructions, when given."
    )

    @classmethod
    def build(
        cls,
        *,
        product_id: str,
        variant_id: str,
        product_name: str,
        variant_name: str,
        description: str,
        quantity: int,
        unit_price: int,
        line_total: int,
        currency: str,
        customization: dict | None,
    ) -> OrderLine:
        custom = customization or {}
        instructions = custom.get("instructions")
        return cls(
            product=Product(id=strawberry.ID(product_id)),
            variant_id=strawberry.ID(variant_id),
            product_name=product_name,
            variant_name=variant_name,
            description=description,
            quantity=quantity,
            unit_price=money(unit_price, currency),
            line_total=money(line_total, currency),
            toppings=[
                OrderLineTopping(
                    topping_code=t["toppingCode"],
                    placement=Placement(t["placement"]),
                    amount=ToppingAmount(t["amount"]),
                )
                for t in custom.get("toppings") or []
            ],
            instructions=OrderLineInstructions(
                bake=BakeOption(instructions.get("bake", "NORMAL")),
                cut=CutOption(instructions.get("cut", "PIE")),
                seasoning=bool(instructions.get("seasoning", True)),
            )
            if instructions
            else None,
        )

    @classmethod
    def from_row(cls, row: models.OrderLine, currency: str) -> OrderLine:
        return cls.build(
            product_id=row.product_id,
            variant_id=row.variant_id,
            product_name=row.product_name,
            variant_name=row.variant_name,
            description=row.description,
            quantity=row.quantity,
            unit_price=row.unit_price,
            line_total=row.line_total,
            currency=currency,
            customization=row.customization,
        )

    @classmethod
    def from_priced(cls, line: PricedLine, customization: dict | None) -> OrderLine:
        return cls.build(
            product_id=line.product_id,
            variant_id=line.variant_id,
            product_name=line.product_name,
            variant_name=line.variant_name,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=line.line_total,
            currency=line.currency,
            customization=customization,
        )


@strawberry.type(description="What an order costs, line by line of the receipt.")
class PriceBreakdown:
    subtotal: Money = strawberry.field(description="Sum of the lines.")
    discounts: Money = strawberry.field(description="Coupon and promotion savings.")
    delivery_fee: Money = strawberry.field(description="Delivery fee (delivery orders only).")
    surcharge: Money = strawberry.field(
        description="The store's small-order surcharge: a flat amount (1.00 by default) when "
        "the items subtotal, before discounts, is below its threshold (10.00 by default)."
    )
    tax: Money = strawberry.field(
        description="Sales tax on subtotal - discounts + delivery fee + surcharge, rounded half up."
    )
    tip: Money = strawberry.field(description="Tip for the driver.")
    total: Money = strawberry.field(description="What the customer pays.")

    @classmethod
    def from_values(cls, price: PriceValues) -> PriceBreakdown:
        c = price.currency
        return cls(
            subtotal=money(price.subtotal, c),
            discounts=money(price.discounts, c),
            delivery_fee=money(price.delivery_fee, c),
            surcharge=money(price.surcharge, c),
            tax=money(price.tax, c),
            tip=money(price.tip, c),
            total=money(price.total, c),
        )

    @classmethod
    def from_row(cls, row: models.Order) -> PriceBreakdown:
        return cls.from_values(
            PriceValues(
                subtotal=row.subtotal,
                discounts=row.discounts,
                delivery_fee=row.delivery_fee,
                surcharge=row.surcharge,
                tax=row.tax,
                tip=row.tip,
                total=row.total,
                currency=row.currency,
            )
        )


@strawberry.type(description="Where a delivery order goes.")
class OrderDeliveryAddress:
    line1: str = strawberry.field(description="Street and number.")
    line2: str | None = strawberry.field(description="Apartment, floor, suite.")
    city: str = strawberry.field(description="City.")
    postcode: str = strawberry.field(description="Postal code.")
    location: GeoPoint = strawberry.field(description="Coordinates the driver navigates to.")
    instructions: str | None = strawberry.field(description="Notes for the driver.")


@strawberry.federation.type(keys=["id"], description="A customer's order and its tracker.")
class Order:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    number: str = strawberry.field(
        description="Human number, unique per store and local day, e.g. 1125-0042."
    )
    status: OrderStatus = strawberry.field(description="Where the order stands now.")
    stages: list[OrderStage] = strawberry.field(
        description="Every stage reached, oldest first, with time and actor."
    )
    service_method: ServiceMethod = strawberry.field(description="Delivery or carryout.")
    lines: list[OrderLine] = strawberry.field(description="What was ordered, as priced.")
    price: PriceBreakdown = strawberry.field(description="What it costs.")
    delivery_address: OrderDeliveryAddress | None = strawberry.field(
        description="Where it goes (delivery orders only)."
    )
    placed_at: datetime = strawberry.field(description="When it was placed (UTC).")
    scheduled_for: datetime | None = strawberry.field(
        description="When the customer wants it; null means as soon as possible."
    )
    confirmed_at: datetime | None = strawberry.field(
        description="When the payment was authorized (null until then)."
    )
    payment_method: PaymentMethodType = strawberry.field(description="How it is paid.")
    cancel_reason: str | None = strawberry.field(description="Why it was cancelled, if it was.")
    _customer_id: strawberry.Private[str]
    _store_id: strawberry.Private[str]

    @strawberry.field(description="Who ordered (users resolves the details).")
    def customer(self) -> User:
        return User(id=strawberry.ID(self._customer_id))

    @strawberry.field(description="The store making it (geo resolves the details).")
    def store(self) -> Store:
        return Store(id=strawberry.ID(self._store_id))

    @classmethod
    async def resolve_reference(
        cls, info: Info[SubgraphContext, None], id: strawberry.ID
    ) -> Order | None:
        row = await info.context.loaders.order.load(str(id))
        if row is None or not service.can_read_order(info.context.principal, row):
            return None
        return cls.from_row(row)

    @classmethod
    def from_row(cls, row: models.Order) -> Order:
        address = (
            OrderDeliveryAddress(
                line1=row.address_line1 or "",
                line2=row.address_line2,
                city=row.address_city or "",
                postcode=row.address_postcode or "",
                location=GeoPoint(lat=row.address_lat, lng=row.address_lng),
                instructions=row.address_instructions,
            )
            if row.address_lat is not None and row.address_lng is not None
            else None
        )
        return cls(
            id=strawberry.ID(row.id),
            number=row.number,
            status=OrderStatus(row.status),
            stages=[
                OrderStage(stage=OrderStatus(s.stage), at=s.at, actor=s.actor) for s in row.stages
            ],
            service_method=ServiceMethod(row.service_method),
            lines=[OrderLine.from_row(line, row.currency) for line in row.lines],
            price=PriceBreakdown.from_row(row),
            delivery_address=address,
            placed_at=row.placed_at,
            scheduled_for=row.scheduled_for,
            confirmed_at=row.confirmed_at,
            payment_method=PaymentMethodType(row.payment_method),
            cancel_reason=row.cancel_reason,
            _customer_id=row.customer_id,
            _store_id=row.store_id,
        )


@strawberry.type(description="One order in a list.")
class OrderEdge:
    cursor: str = strawberry.field(description="Position of this edge.")
    node: Order = strawberry.field(description="The order.")


@strawberry.type(description="A page of orders, newest first.")
class OrderConnection:
    edges: list[OrderEdge] = strawberry.field(description="The orders of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(description="How many orders match in all.")


MAX_PAGE = 100

First = Annotated[int, strawberry.argument(description="Page size, 1..100.")]
After = Annotated[str | None, strawberry.argument(description="Cursor to start after.")]


async def order_connection(
    info: Info[SubgraphContext, None],
    *,
    first: int,
    after: str | None,
    status: OrderStatus | None = None,
    store_id: str | None = None,
    customer_id: str | None = None,
) -> OrderConnection:
    """A page of orders matching the filter (the caller's access was checked already)."""
    if not 0 < first <= MAX_PAGE:
        raise DomainError(
            f"first must be between 1 and {MAX_PAGE}.", code="BAD_USER_INPUT", field="first"
        )
    try:
        offset = decode_cursor(after) + 1
    except ValueError as exc:
        raise DomainError("The cursor is not valid.", code="BAD_USER_INPUT", field="after") from exc
    async with info.context.db.session() as session:
        rows, total = await service.list_orders(
            session=session,
            offset=offset,
            limit=first,
            status=status.value if status else None,
            store_id=store_id,
            customer_id=customer_id,
        )
    edges = [
        OrderEdge(cursor=encode_cursor(offset + i), node=Order.from_row(r))
        for i, r in enumerate(rows)
    ]
    return OrderConnection(
        edges=edges,
        total_count=total,
        page_info=page_info(
            offset=offset, count=len(rows), total=total, cursors=[e.cursor for e in edges]
        ),
    )


def _caller(info: Info[SubgraphContext, None]) -> Principal:
    return require_principal(info.context.principal)


@strawberry.federation.type(keys=["id"], description="A person with an account (owned by users).")
class User:
    id: strawberry.ID = strawberry.field(description="Opaque id of the user.")

    @strawberry.field(
        description="The user's orders, newest first (the user themselves, staff or admins)."
    )
    async def orders(
        self, info: Info[SubgraphContext, None], first: First = 20, after: After = None
    ) -> OrderConnection:
        store_id, customer_id = service.scope_for_listing(
            _caller(info), store_id=None, customer_id=str(self.id)
        )
        return await order_connection(
            info, first=first, after=after, store_id=store_id, customer_id=customer_id
        )

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


@strawberry.federation.type(keys=["id"], description="A store of the chain (owned by geo).")
class Store:
    id: strawberry.ID = strawberry.field(description="Opaque id of the store.")

    @strawberry.field(description="The store's orders, newest first (its staff and admins).")
    async def orders(
        self,
        info: Info[SubgraphContext, None],
        status: Annotated[
            OrderStatus | None, strawberry.argument(description="Only orders in this status.")
        ] = None,
        first: First = 20,
        after: After = None,
    ) -> OrderConnection:
        if not service.is_store_staff(_caller(info), str(self.id)):
            raise Forbidden("Only staff of this store can see its orders.")
        return await order_connection(
            info, first=first, after=after, status=status, store_id=str(self.id)
        )

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Store:
        return cls(id=id)
