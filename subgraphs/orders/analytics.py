"""Sales analytics for admins and store staff: what the orders of a time range add up to.

Enters: the caller, a UTC range ``[start, end)`` (at most 92 days) and optionally a store.
Leaves: a :class:`SalesReport`. No GraphQL here. The rules, as the report states them:

- Orders are counted by ``placed_at`` in the range. CANCELLED and REFUNDED orders are
  counted apart and add nothing to revenue; revenue is the orders' totals (what the
  customers paid: after discounts, with fees, tax and tips).
- Days and hours are UTC days and hours (not store-local): the buckets carry their UTC
  start, so a client can show them in a time zone. Only buckets with orders are listed.
- Time per tracker stage: from reaching a stage to reaching the next one, averaged over
  the orders that made that move (moves into CANCELLED or REFUNDED are not counted).
- On-time delivery: of the DELIVERY orders of the range that were DELIVERED, the share
  delivered within the promise: 45 minutes after placing for ASAP orders, 15 minutes
  after the asked-for time for scheduled ones. Null when none was delivered.
- Top products: by quantity and by revenue (line totals before order discounts) over the
  counted orders; ties go to the product name.
- Admins see every store or one; staff only their own store (FORBIDDEN for another);
  customers and drivers are refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, require_principal
from shared.errors import DomainError, Forbidden
from subgraphs.orders.models import Order
from subgraphs.orders.pricing import as_utc

MAX_RANGE = timedelta(days=92)
ASAP_PROMISE = timedelta(minutes=45)
SCHEDULED_GRACE = timedelta(minutes=15)
NOT_SOLD = frozenset({"CANCELLED", "REFUNDED"})
MAX_TOP = 50
DEFAULT_CURRENCY = "USD"


@dataclass(frozen=True, slots=True)
class SalesBucket:
    """Orders and revenue of one UTC hour or day (``start`` is its first instant)."""

    start: datetime
    orders: int
    revenue: int


@dataclass(frozen=True, slots=True)
class StoreSales:
    """Orders and revenue of one store."""

    store_id: str
    orders: int
    revenue: int


@dataclass(frozen=True, slots=True)
class StageTime:
    """How long orders stay in ``stage`` before the next one, on average."""

    stage: str
    average_seconds: int
    samples: int


@dataclass(frozen=True, slots=True)
class ProductSales:
    """What one product sold."""

    product_id: str
    product_name: str
    quantity: int
    revenue: int


@dataclass(frozen=True, slots=True)
class SalesReport:
    """Everything :func:`sales_report` computes; money in minor units of ``currency``."""

    start: datetime
    end: datetime
    store_id: str | None
    currency: str
    orders: int
    revenue: int
    cancelled: int
    by_hour: list[SalesBucket]
    by_day: list[SalesBucket]
    by_store: list[StoreSales]
    stage_times: list[StageTime]
    delivered: int
    delivered_on_time: int
    top_by_quantity: list[ProductSales]
    top_by_revenue: list[ProductSales]

    @property
    def on_time_rate(self) -> float | None:
        """Share of delivered orders that arrived within the promise (None: none delivered)."""
        return self.delivered_on_time / self.delivered if self.delivered else None


def report_store(principal: Principal | None, store_id: str | None) -> str | None:
    """The store the caller may report on: admins any (None: all), staff their own."""
    caller = require_principal(principal)
    if caller.has_role("ADMIN"):
        return store_id
    if caller.has_role("STAFF") and caller.store_id:
        if store_id is not None and store_id != caller.store_id:
            raise Forbidden("Staff see the sales of their own store only.")
        return caller.store_id
    raise Forbidden("Only staff and admins can see sales reports.")


def check_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The range in UTC; INVALID_RANGE when empty, reversed or longer than 92 days."""
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        raise DomainError("The range must end after it starts.", code="INVALID_RANGE", field="to")
    if end - start > MAX_RANGE:
        raise DomainError(
            f"A report covers at most {MAX_RANGE.days} days.", code="INVALID_RANGE", field="to"
        )
    return start, end


def _buckets(orders: Iterable[Order], key) -> list[SalesBucket]:
    counts: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
    for order in orders:
        bucket = counts[key(as_utc(order.placed_at))]
        bucket[0] += 1
        bucket[1] += order.total
    return [SalesBucket(start, n, revenue) for start, (n, revenue) in sorted(counts.items())]


def _hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def stage_times(orders: Iterable[Order]) -> list[StageTime]:
    """Average time from each stage to the next, in the order stages first appear."""
    totals: dict[str, list[float]] = {}
    for order in orders:
        stages = sorted(order.stages, key=lambda s: s.seq)
        for here, following in pairwise(stages):
            if following.stage in NOT_SOLD:
                continue
            spent = (as_utc(following.at) - as_utc(here.at)).total_seconds()
            totals.setdefault(here.stage, []).append(max(spent, 0.0))
    return [
        StageTime(stage, round(sum(values) / len(values)), len(values))
        for stage, values in totals.items()
    ]


def promised_by(order: Order) -> datetime:
    """When a delivery order was promised: placed + 45 min, or scheduled time + 15 min."""
    if order.scheduled_for is not None:
        return as_utc(order.scheduled_for) + SCHEDULED_GRACE
    return as_utc(order.placed_at) + ASAP_PROMISE


def delivered_at(order: Order) -> datetime | None:
    """When the order reached DELIVERED, if it did."""
    return next((as_utc(s.at) for s in order.stages if s.stage == "DELIVERED"), None)


def top_products(orders: Iterable[Order], *, top: int) -> tuple[list[ProductSales], ...]:
    """The ``top`` products by quantity and by revenue."""
    sold: dict[str, list] = {}
    for order in orders:
        for line in order.lines:
            entry = sold.setdefault(line.product_id, [line.product_name, 0, 0])
            entry[1] += line.quantity
            entry[2] += line.line_total
    products = [ProductSales(pid, name, qty, rev) for pid, (name, qty, rev) in sold.items()]
    by_quantity = sorted(products, key=lambda p: (-p.quantity, p.product_name))[:top]
    by_revenue = sorted(products, key=lambda p: (-p.revenue, p.product_name))[:top]
    return by_quantity, by_revenue


def summarize(
    orders: Sequence[Order], *, start: datetime, end: datetime, store_id: str | None, top: int = 10
) -> SalesReport:
    """The report over ``orders`` (already limited to the range and store)."""
    sold = [o for o in orders if o.status not in NOT_SOLD]
    per_store: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for order in sold:
        per_store[order.store_id][0] += 1
        per_store[order.store_id][1] += order.total
    delivered = [
        (o, at)
        for o in orders
        if o.service_method == "DELIVERY" and (at := delivered_at(o)) is not None
    ]
    by_quantity, by_revenue = top_products(sold, top=top)
    return SalesReport(
        start=start,
        end=end,
        store_id=store_id,
        currency=sold[0].currency if sold else DEFAULT_CURRENCY,
        orders=len(sold),
        revenue=sum(o.total for o in sold),
        cancelled=len(orders) - len(sold),
        by_hour=_buckets(sold, _hour),
        by_day=_buckets(sold, _day),
        by_store=[StoreSales(s, n, r) for s, (n, r) in sorted(per_store.items())],
        stage_times=stage_times(orders),
        delivered=len(delivered),
        delivered_on_time=sum(1 for o, at in delivered if at <= promised_by(o)),
        top_by_quantity=by_quantity,
        top_by_revenue=by_revenue,
    )


async def sales_report(
    *,
    session: AsyncSession,
    principal: Principal | None,
    start: datetime,
    end: datetime,
    store_id: str | None = None,
    top: int = 10,
) -> SalesReport:
    """Orders and revenue per hour, day and store, stage times, on-time rate, top products."""
    store_id = report_store(principal, store_id)
    start, end = check_range(start, end)
    if not 1 <= top <= MAX_TOP:
        raise DomainError(f"top is 1 to {MAX_TOP}.", code="BAD_USER_INPUT", field="top")
    query = select(Order).where(Order.placed_at >= start, Order.placed_at < end)
    if store_id is not None:
        query = query.where(Order.store_id == store_id)
    orders = list(await session.scalars(query.order_by(Order.placed_at)))
    return summarize(orders, start=start, end=end, store_id=store_id, top=top)
