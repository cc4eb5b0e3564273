"""orders' sales report and order search: rules over the database, then through GraphQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared import demo_ids
from shared.errors import DomainError
from subgraphs.orders import analytics, service
from subgraphs.orders.catalog import CartLine
from tests.conftest import bearer, gql
from tests.subgraphs.orders.conftest import (
    ADMIN,
    CUSTOMER,
    NOW,
    OTHER_STAFF,
    OTHER_STORE,
    STAFF,
    STORE,
    FakeCatalog,
    carryout_cart,
    delivery_cart,
)

VISA = service.PaymentChoice(type="CARD", token="tok_visa")
DAY = (NOW.replace(hour=0), NOW.replace(hour=0) + timedelta(days=1))
DELIVERY_FLOW = ("PREP", "BAKE", "QUALITY_CHECK", "OUT_FOR_DELIVERY", "DELIVERED")


async def place(session, cart, *, key: str, at):
    placement = await service.place_order(
        session=session,
        catalog=FakeCatalog(),
        principal=CUSTOMER,
        cart=cart,
        payment=VISA,
        idempotency_key=key,
        now=at,
    )
    await session.flush()
    return placement.order


async def run_through(session, order, stages, *, start, every: timedelta) -> None:
    """Move ``order`` through ``stages``, one every ``every`` after ``start``."""
    for i, stage in enumerate(stages, start=1):
        await service.advance_order(
            session=session, principal=ADMIN, order_id=order.id, to=stage, now=start + i * every
        )


async def seed(session) -> dict:
    """Four orders on one day: two delivered (one late), one carryout, one cancelled."""
    on_time = await place(session, delivery_cart(), key="a", at=NOW)  # 2 pepperoni 14
    await run_through(session, on_time, DELIVERY_FLOW, start=NOW, every=timedelta(minutes=8))
    late_at = NOW + timedelta(hours=1)
    late = await place(session, delivery_cart(), key="b", at=late_at)
    await run_through(session, late, DELIVERY_FLOW, start=late_at, every=timedelta(minutes=10))
    pickup = await place(
        session,
        carryout_cart(
            store_id=OTHER_STORE, lines=[CartLine("var_cola", 3), CartLine("var_cheese_12", 1)]
        ),
        key="c",
        at=NOW + timedelta(hours=1, minutes=30),
    )
    cancelled = await place(session, carryout_cart(), key="d", at=NOW + timedelta(hours=2))
    await service.cancel_order(
        session=session, principal=CUSTOMER, order_id=cancelled.id, reason="", now=NOW
    )
    await session.commit()
    return {"on_time": on_time, "late": late, "pickup": pickup, "cancelled": cancelled}


async def test_report_adds_up_orders_revenue_and_buckets(session) -> None:
    orders = await seed(session)
    report = await analytics.sales_report(
        session=session, principal=ADMIN, start=DAY[0], end=DAY[1]
    )
    sold = [orders["on_time"], orders["late"], orders["pickup"]]
    assert (report.orders, report.cancelled) == (3, 1)
    assert report.revenue == sum(o.total for o in sold)
    assert [(b.start.hour, b.orders) for b in report.by_hour] == [(18, 1), (19, 2)]
    assert [(b.start, b.orders, b.revenue) for b in report.by_day] == [(DAY[0], 3, report.revenue)]
    assert [(s.store_id, s.orders) for s in report.by_store] == sorted(
        [(STORE, 2), (OTHER_STORE, 1)]
    )


async def test_stage_times_and_on_time_rate(session) -> None:
    await seed(session)
    report = await analytics.sales_report(
        session=session, principal=ADMIN, start=DAY[0], end=DAY[1]
    )
    times = {t.stage: (t.average_seconds, t.samples) for t in report.stage_times}
    assert times["PLACED"] == (9 * 60, 2)  # 8 and 10 minutes to PREP
    assert times["OUT_FOR_DELIVERY"] == (9 * 60, 2)
    assert "CANCELLED" not in times
    # 5 x 8 = 40 minutes is within the 45-minute promise; 5 x 10 = 50 is not.
    assert (report.delivered, report.delivered_on_time, report.on_time_rate) == (2, 1, 0.5)


async def test_top_products_by_quantity_and_revenue(session) -> None:
    await seed(session)
    report = await analytics.sales_report(
        session=session, principal=ADMIN, start=DAY[0], end=DAY[1], top=2
    )
    assert [(p.product_id, p.quantity) for p in report.top_by_quantity] == [
        ("prd_pepperoni_14", 4),
        ("prd_cola", 3),
    ]
    assert [(p.product_id, p.revenue) for p in report.top_by_revenue] == [
        ("prd_pepperoni_14", 4 * 1599),
        ("prd_cheese_12", 1199),
    ]


async def test_scheduled_delivery_is_on_time_within_fifteen_minutes_of_its_time(session) -> None:
    when = NOW + timedelta(hours=3)
    order = await place(session, delivery_cart(scheduled_for=when), key="s", at=NOW)
    await run_through(
        session,
        order,
        DELIVERY_FLOW,
        start=when - timedelta(minutes=30),
        every=timedelta(minutes=8),
    )
    await session.commit()
    report = await analytics.sales_report(
        session=session, principal=ADMIN, start=DAY[0], end=DAY[1]
    )
    assert (report.delivered, report.delivered_on_time) == (1, 1)


async def test_staff_see_their_own_store_only(session) -> None:
    await seed(session)
    own = await analytics.sales_report(session=session, principal=STAFF, start=DAY[0], end=DAY[1])
    assert own.store_id == STORE and own.orders == 2
    with pytest.raises(DomainError) as caught:
        await analytics.sales_report(
            session=session, principal=OTHER_STAFF, start=DAY[0], end=DAY[1], store_id=STORE
        )
    assert caught.value.code == "FORBIDDEN"


@pytest.mark.parametrize(
    ("start", "end"),
    [(DAY[1], DAY[0]), (DAY[0], DAY[0] + timedelta(days=93))],
)
async def test_range_must_be_forward_and_at_most_92_days(session, start, end) -> None:
    with pytest.raises(DomainError) as caught:
        await analytics.sales_report(session=session, principal=ADMIN, start=start, end=end)
    assert (caught.value.code, caught.value.field) == ("INVALID_RANGE", "to")


def test_customers_get_no_report() -> None:
    with pytest.raises(DomainError) as caught:
        analytics.report_store(CUSTOMER, None)
    assert caught.value.code == "FORBIDDEN"


async def test_empty_range_has_no_on_time_rate(session) -> None:
    report = await analytics.sales_report(
        session=session, principal=ADMIN, start=DAY[0], end=DAY[1]
    )
    assert (report.orders, report.revenue, report.on_time_rate) == (0, 0, None)


# --- through GraphQL ---------------------------------------------------------------------

REPORT = """
query($range: DateRangeInput!, $storeId: ID) {
  salesReport(range: $range, storeId: $storeId) {
    store { id } orders revenue { amount currency } cancelledOrders
    byDay { start orders } byStore { store { id } orders }
    stageTimes { stage averageSeconds samples }
    deliveredOrders deliveredOnTime onTimeRate
    topProductsByQuantity { product { id } productName quantity revenue { amount } }
  }
}"""
SEARCH = """
query($filter: OrderFilter) { orders(filter: $filter) { totalCount edges { node { id number } } } }"""
RANGE = {"from": DAY[0].isoformat(), "to": DAY[1].isoformat()}


@pytest.fixture
async def seeded(start_subgraph):
    orders = await start_subgraph("orders", load_demo_data=False)  # only this test's orders
    async with orders.runtime.db.session() as session:
        placed = await seed(session)
    return orders, placed


async def test_sales_report_for_admin_staff_and_customer(seeded, settings) -> None:
    orders, _ = seeded
    admin = bearer(settings, demo_ids.ADMIN_USER, "ADMIN")
    body = await gql(orders, REPORT, {"range": RANGE}, headers=admin)
    report = body["data"]["salesReport"]
    assert (report["store"], report["orders"], report["cancelledOrders"]) == (None, 3, 1)
    assert report["onTimeRate"] == 0.5 and report["revenue"]["currency"] == "USD"
    assert report["topProductsByQuantity"][0]["product"] == {"id": "prd_pepperoni_14"}
    staff = bearer(settings, demo_ids.STAFF_DOWNTOWN, "STAFF", store_id=STORE)
    own = (await gql(orders, REPORT, {"range": RANGE}, headers=staff))["data"]["salesReport"]
    assert own["store"] == {"id": STORE} and own["byStore"] == [
        {"store": {"id": STORE}, "orders": 2}
    ]
    other = await gql(orders, REPORT, {"range": RANGE, "storeId": OTHER_STORE}, headers=staff)
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    refused = await gql(orders, REPORT, {"range": RANGE}, headers=customer)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN" and refused["data"] is None


async def test_order_search_by_number_and_time(seeded, settings) -> None:
    orders, placed = seeded
    admin = bearer(settings, demo_ids.ADMIN_USER, "ADMIN")
    late = placed["late"]
    by_number = await gql(
        orders, SEARCH, {"filter": {"number": late.number, "storeId": STORE}}, headers=admin
    )
    assert by_number["data"]["orders"]["edges"] == [
        {"node": {"id": late.id, "number": late.number}}
    ]
    window = {
        "placedFrom": (NOW + timedelta(minutes=30)).isoformat(),
        "placedTo": (NOW + timedelta(hours=2)).isoformat(),
    }
    in_window = await gql(orders, SEARCH, {"filter": window}, headers=admin)
    assert in_window["data"]["orders"]["totalCount"] == 2
    staff = bearer(settings, demo_ids.STAFF_DOWNTOWN, "STAFF", store_id=STORE)
    staff_view = await gql(orders, SEARCH, {"filter": window}, headers=staff)
    assert staff_view["data"]["orders"]["totalCount"] == 1  # their store only
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    refused = await gql(orders, SEARCH, {"filter": {"storeId": STORE}}, headers=customer)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
