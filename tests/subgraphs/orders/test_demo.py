"""The demo orders (orders' demo.py) and their payments (payments' demo.py) agree."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from shared import demo_ids
from shared.settings import Settings
from shared.subgraph import SubgraphRuntime
from subgraphs.orders import analytics, demo, events, service
from subgraphs.orders.models import Order
from subgraphs.payments import demo as payments_demo
from subgraphs.payments.models import Invoice, Payment
from tests.subgraphs.orders.conftest import ADMIN, CUSTOMER, RecordingBus

SEEDED = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)  # 17:30 in Austin


@pytest.fixture
async def payments_runtime(settings: Settings) -> AsyncIterator[SubgraphRuntime]:
    """A payments runtime with a migrated database, next to the orders one."""
    runtime = SubgraphRuntime.create("payments", settings=settings, bus=RecordingBus())
    await runtime.db.migrate()
    yield runtime
    await runtime.db.dispose()


@pytest.fixture
async def seeded(runtime, payments_runtime) -> tuple[list[Order], dict[str, Payment]]:
    """Both demos seeded at the same moment: the orders and each order's payment."""
    await demo.seed(runtime, now=SEEDED)
    await payments_demo.seed(payments_runtime, now=SEEDED)
    async with runtime.db.session() as session:
        orders = list(await session.scalars(select(Order).order_by(Order.placed_at)))
    async with payments_runtime.db.session() as session:
        payments = {p.order_id: p for p in await session.scalars(select(Payment))}
    return orders, payments


async def test_the_demo_customer_has_three_orders_handed_over_and_one_in_the_oven(
    seeded,
) -> None:
    orders, _ = seeded
    assert [(o.status, o.service_method) for o in orders] == [
        ("DELIVERED", "DELIVERY"),
        ("PICKED_UP", "CARRYOUT"),
        ("DELIVERED", "DELIVERY"),
        ("BAKE", "CARRYOUT"),
    ]
    assert {o.customer_id for o in orders} == {demo_ids.CUSTOMER_USER}
    assert [o.id for o in orders] == [demo.order_id(d.key) for d in demo.DEMO_ORDERS]


async def test_demo_orders_are_priced_by_the_rules(seeded) -> None:
    orders, _ = seeded
    for order in orders:
        taxable = order.subtotal - order.discounts + order.delivery_fee + order.surcharge
        assert order.total == taxable + order.tax + order.tip
        assert order.subtotal == sum(line.line_total for line in order.lines)
    small = orders[-1]
    assert (small.subtotal, small.surcharge) == (798, 100)  # below 10.00 of items


async def test_every_demo_order_has_its_payment_with_the_same_amounts(seeded) -> None:
    orders, payments = seeded
    assert set(payments) == {o.id for o in orders}
    for order in orders:
        payment = payments[order.id]
        placed = events.order_placed_payload(order)
        assert payment.id == order.payment_id
        assert (payment.amount, payment.currency) == (order.total, order.currency)
        assert payment.order_number == order.number
        assert payment.method == order.payment_method
        assert payment.order_data == {"price": placed["price"], "lines": placed["lines"]}
        assert (payment.customer_id, payment.store_id) == (order.customer_id, order.store_id)


async def test_handed_over_orders_are_captured_and_invoiced(seeded, payments_runtime) -> None:
    orders, payments = seeded
    async with payments_runtime.db.session() as session:
        invoices = {i.order_id: i for i in await session.scalars(select(Invoice))}
    for order in orders:
        payment = payments[order.id]
        if order.status in ("DELIVERED", "PICKED_UP"):
            handed_over = order.stages[-1].at
            assert (payment.status, payment.captured_at) == ("CAPTURED", handed_over)
            assert invoices[order.id].total == order.total
            assert len(invoices[order.id].lines) > 1  # the order's lines, not one sum
        else:
            assert payment.status == "PENDING" and order.id not in invoices


async def test_the_sales_report_of_the_last_week_has_the_demo_orders(runtime, seeded) -> None:
    orders, _ = seeded
    async with runtime.db.session() as session:
        report = await analytics.sales_report(
            session=session, principal=ADMIN, start=SEEDED - timedelta(days=7), end=SEEDED
        )
    assert (report.orders, report.cancelled) == (4, 0)
    assert report.revenue == sum(o.total for o in orders)
    assert (report.delivered, report.delivered_on_time) == (2, 1)
    assert report.stage_times and report.top_by_quantity[0].product_name == "Pepperoni Pizza"


async def test_the_customer_sees_the_demo_orders_newest_first(runtime, seeded) -> None:
    async with runtime.db.session() as session:
        mine, total = await service.list_orders(
            session=session, offset=0, limit=10, customer_id=CUSTOMER.user_id
        )
    assert total == 4 and mine[0].status == "BAKE"


async def test_the_demo_is_loaded_once(runtime, payments_runtime, seeded) -> None:
    await demo.seed(runtime, now=SEEDED + timedelta(days=1))
    await payments_demo.seed(payments_runtime, now=SEEDED + timedelta(days=1))
    async with runtime.db.session() as session:
        assert await session.scalar(select(func.count(Order.id))) == 4
    async with payments_runtime.db.session() as session:
        assert await session.scalar(select(func.count(Payment.id))) == 4
