"""GraphQL side of orders' admin features: the sales report, order search, applied coupons.

Thin, like ``schema.py`` (which mounts these on ``Query`` and the payloads): types built
from :mod:`subgraphs.orders.analytics` and :mod:`subgraphs.orders.coupons` values, and the
order search connection with the filters the plain listing lacks.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from shared.errors import DomainError
from shared.gql_types import Money, decode_cursor, encode_cursor, money, page_info
from shared.subgraph import SubgraphContext
from subgraphs.orders import analytics, coupons, service
from subgraphs.orders.types import (
    MAX_PAGE,
    Order,
    OrderConnection,
    OrderEdge,
    OrderStatus,
    Product,
    Store,
)


@strawberry.type(description="A coupon applied to an order, with what it took off.")
class OrderCoupon:
    code: str = strawberry.field(description="The coupon's code.")
    description: str = strawberry.field(description="The offer in words.")
    amount: Money = strawberry.field(description="What it took off the items subtotal.")

    @classmethod
    def from_value(cls, value: coupons.AppliedCoupon) -> OrderCoupon:
        return cls(
            code=value.code,
            description=value.description,
            amount=money(value.amount, value.currency),
        )


@strawberry.input(description="A time range: from (included) to (excluded), UTC.")
class DateRangeInput:
    from_: datetime = strawberry.field(name="from", description="First instant (included).")
    to: datetime = strawberry.field(description="End (excluded); at most 92 days after from.")


@strawberry.type(description="Orders and revenue of one UTC hour or day.")
class SalesBucket:
    start: datetime = strawberry.field(description="First instant of the hour or day (UTC).")
    orders: int = strawberry.field(description="Orders placed (cancelled ones not counted).")
    revenue: Money = strawberry.field(description="Their totals.")


@strawberry.type(description="Orders and revenue of one store.")
class StoreSales:
    store: Store = strawberry.field(description="The store.")
    orders: int = strawberry.field(description="Orders placed (cancelled ones not counted).")
    revenue: Money = strawberry.field(description="Their totals.")


@strawberry.type(description="Average time orders spend in one tracker stage.")
class StageTime:
    stage: OrderStatus = strawberry.field(description="The stage.")
    average_seconds: int = strawberry.field(description="From reaching it to the next stage.")
    samples: int = strawberry.field(description="How many orders made that move.")


@strawberry.type(description="What one product sold.")
class ProductSales:
    product: Product = strawberry.field(description="The product (menu resolves it).")
    product_name: str = strawberry.field(description="Its name on the orders.")
    quantity: int = strawberry.field(description="Units sold.")
    revenue: Money = strawberry.field(description="Line totals, before order discounts.")


@strawberry.type(
    description="Sales of a time range (admins: any store or all; staff: their store). "
    "Days and hours are UTC. Cancelled and refunded orders count apart and add no revenue. "
    "On time: delivered within 45 minutes of placing (ASAP) or 15 minutes of the "
    "scheduled time."
)
class SalesReport:
    start: datetime = strawberry.field(description="First instant of the range (UTC).")
    end: datetime = strawberry.field(description="End of the range, excluded (UTC).")
    store: Store | None = strawberry.field(description="The store reported on; null: all.")
    orders: int = strawberry.field(description="Orders placed, not cancelled or refunded.")
    revenue: Money = strawberry.field(description="Their totals.")
    cancelled_orders: int = strawberry.field(description="Orders cancelled or refunded.")
    by_hour: list[SalesBucket] = strawberry.field(description="Per UTC hour with orders.")
    by_day: list[SalesBucket] = strawberry.field(description="Per UTC day with orders.")
    by_store: list[StoreSales] = strawberry.field(description="Per store with orders.")
    stage_times: list[StageTime] = strawberry.field(
        description="Average time in each tracker stage."
    )
    delivered_orders: int = strawberry.field(description="Delivery orders delivered.")
    delivered_on_time: int = strawberry.field(description="Of those, delivered on time.")
    on_time_rate: float | None = strawberry.field(
        description="deliveredOnTime / deliveredOrders, 0 to 1; null when none was delivered."
    )
    top_products_by_quantity: list[ProductSales] = strawberry.field(
        description="Best sellers by units."
    )
    top_products_by_revenue: list[ProductSales] = strawberry.field(
        description="Best sellers by revenue."
    )

    @classmethod
    def from_value(cls, report: analytics.SalesReport) -> SalesReport:
        c = report.currency

        def buckets(values: list[analytics.SalesBucket]) -> list[SalesBucket]:
            return [
                SalesBucket(start=b.start, orders=b.orders, revenue=money(b.revenue, c))
                for b in values
            ]

        def products(values: list[analytics.ProductSales]) -> list[ProductSales]:
            return [
                ProductSales(
                    product=Product(id=strawberry.ID(p.product_id)),
                    product_name=p.product_name,
                    quantity=p.quantity,
                    revenue=money(p.revenue, c),
                )
                for p in values
            ]

        return cls(
            start=report.start,
            end=report.end,
            store=Store(id=strawberry.ID(report.store_id)) if report.store_id else None,
            orders=report.orders,
            revenue=money(report.revenue, c),
            cancelled_orders=report.cancelled,
            by_hour=buckets(report.by_hour),
            by_day=buckets(report.by_day),
            by_store=[
                StoreSales(
                    store=Store(id=strawberry.ID(s.store_id)),
                    orders=s.orders,
                    revenue=money(s.revenue, c),
                )
                for s in report.by_store
            ],
            stage_times=[
                StageTime(
                    stage=OrderStatus(t.stage), average_seconds=t.average_seconds, samples=t.samples
                )
                for t in report.stage_times
            ],
            delivered_orders=report.delivered,
            delivered_on_time=report.delivered_on_time,
            on_time_rate=report.on_time_rate,
            top_products_by_quantity=products(report.top_by_quantity),
            top_products_by_revenue=products(report.top_by_revenue),
        )


async def sales_report(
    info: Info[SubgraphContext, None], *, range: DateRangeInput, store_id: str | None, top: int
) -> SalesReport:
    """Resolve ``Query.salesReport``."""
    async with info.context.db.session() as session:
        report = await analytics.sales_report(
            session=session,
            principal=info.context.principal,
            start=range.from_,
            end=range.to,
            store_id=store_id,
            top=top,
        )
    return SalesReport.from_value(report)


async def order_search(
    info: Info[SubgraphContext, None],
    *,
    first: int,
    after: str | None,
    status: OrderStatus | None,
    store_id: str | None,
    customer_id: str | None,
    placed_from: datetime | None,
    placed_to: datetime | None,
    number: str | None,
) -> OrderConnection:
    """A page of orders matching every filter (the caller's scope was applied already)."""
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
            placed_from=placed_from,
            placed_to=placed_to,
            number=number,
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


async def stored_coupons(info: Info[SubgraphContext, None], order_id: str) -> list[OrderCoupon]:
    """The coupons kept with a placed order."""
    async with info.context.db.session() as session:
        applied = await coupons.order_coupons(session=session, order_id=order_id)
    return [OrderCoupon.from_value(a) for a in applied]
