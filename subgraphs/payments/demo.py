"""Payments and invoices of the demo customer's orders (loaded once, when the database is empty).

The same four orders orders seeds (``subgraphs/orders/demo.py``): same order ids,
numbers, amounts, lines and breakdowns, as its ``OrderPlaced`` would have told this
subgraph. The three handed over are CAPTURED and invoiced (two by card, one cash
collected at the counter); the one in the oven is paid in cash at pickup, so its payment
is PENDING until then. Demo card payments were never held by this process's test
gateway: refunding one fails with ``GATEWAY_REJECTED``; cash refunds work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shared import demo_ids
from shared.db import utcnow
from shared.ids import demo_id
from shared.subgraph import SubgraphRuntime
from subgraphs.payments import service
from subgraphs.payments.models import Payment


@dataclass(frozen=True, slots=True)
class DemoPayment:
    """What payments knows of a demo order, and when its money moved."""

    key: str
    days_ago: int
    """0: placed ``minutes_ago`` before seeding; else at ``local_time`` that many days ago."""
    method: str
    lines: tuple[tuple[str, str, int, int], ...]
    """(menu product code, description, quantity, unit price) as orders publishes them."""
    tax: int
    delivery_fee: int = 0
    surcharge: int = 0
    tip: int = 0
    captured_after: int | None = None
    """Minutes after placing the money was taken (handover); None: not yet."""
    local_time: time = time(19, 0)
    minutes_ago: int = 12


DEMO_PAYMENTS = (
    DemoPayment(
        key="casey-1",
        days_ago=6,
        local_time=time(19, 5),
        method="CARD",
        lines=(
            (
                "PEPPERONI",
                'Pepperoni Pizza (14" Hand Tossed) 14" Hand Tossed Pepperoni Pizza',
                2,
                1499,
            ),
            ("GARLIC_KNOTS", "Garlic Knots (8 pieces) Garlic Knots (8 pieces)", 1, 599),
        ),
        delivery_fee=399,
        tax=330,
        tip=300,
        captured_after=38,
    ),
    DemoPayment(
        key="casey-2",
        days_ago=3,
        local_time=time(12, 40),
        method="CASH",
        lines=(
            (
                "MARGHERITA",
                'Margherita Pizza (12" Thin Crust) 12" Thin Crust Margherita Pizza',
                1,
                1299,
            ),
            ("COKE", "Coca-Cola (20 oz bottle) Coca-Cola (20 oz bottle)", 1, 249),
        ),
        tax=128,
        captured_after=31,
    ),
    DemoPayment(
        key="casey-3",
        days_ago=1,
        local_time=time(20, 15),
        method="CARD",
        lines=(
            (
                "MEAT_LOVERS",
                'Meat Lovers Pizza (16" Hand Tossed) 16" Hand Tossed Meat Lovers Pizza',
                1,
                1999,
            ),
            (
                "BROWNIE",
                "Chocolate Fudge Brownie (9 pieces) Chocolate Fudge Brownie (9 pieces)",
                1,
                699,
            ),
        ),
        delivery_fee=399,
        tax=256,
        tip=500,
        captured_after=52,
    ),
    DemoPayment(
        key="casey-4",
        days_ago=0,
        minutes_ago=12,
        method="CASH",
        lines=(
            ("CINNAMON_TWISTS", "Cinnamon Twists (8 pieces) Cinnamon Twists (8 pieces)", 1, 599),
            ("WATER", "Bottled Water (500 ml) Bottled Water (500 ml)", 1, 199),
        ),
        surcharge=100,
        tax=74,
    ),
)


def placed_at(demo: DemoPayment, now: datetime) -> datetime:
    """When the order was placed, for a seed run at ``now`` (as orders' demo places it)."""
    if demo.days_ago == 0:
        return now - timedelta(minutes=demo.minutes_ago)
    zone = ZoneInfo(demo_ids.TIME_ZONE)
    day = now.astimezone(zone).date() - timedelta(days=demo.days_ago)
    return datetime.combine(day, demo.local_time, tzinfo=zone).astimezone(now.tzinfo)


def order_number(demo: DemoPayment, now: datetime) -> str:
    """The order's number: each demo order is the first of its store's (local) day."""
    local = placed_at(demo, now).astimezone(ZoneInfo(demo_ids.TIME_ZONE))
    return f"{local:%m%d}-0001"


def total(demo: DemoPayment) -> int:
    """What the order costs: lines, fee, surcharge, tax and tip (no discounts)."""
    subtotal = sum(quantity * unit for *_, quantity, unit in demo.lines)
    return subtotal + demo.delivery_fee + demo.surcharge + demo.tax + demo.tip


def order_data(demo: DemoPayment) -> dict[str, Any]:
    """The breakdown and lines, as ``OrderPlaced`` carries them (for the invoice)."""

    def usd(amount: int) -> dict[str, Any]:
        return {"amount": amount, "currency": demo_ids.CURRENCY}

    subtotal = sum(quantity * unit for *_, quantity, unit in demo.lines)
    price = {
        "subtotal": subtotal,
        "discounts": 0,
        "deliveryFee": demo.delivery_fee,
        "surcharge": demo.surcharge,
        "tax": demo.tax,
        "tip": demo.tip,
        "total": total(demo),
    }
    return {
        "price": {key: usd(amount) for key, amount in price.items()},
        "lines": [
            {
                "productId": demo_id("prd", product),
                "description": description,
                "quantity": quantity,
                "unitPrice": usd(unit),
                "lineTotal": usd(quantity * unit),
            }
            for product, description, quantity, unit in demo.lines
        ],
    }


def _payment(demo: DemoPayment, now: datetime) -> Payment:
    placed = placed_at(demo, now)
    captured = (
        placed + timedelta(minutes=demo.captured_after) if demo.captured_after is not None else None
    )
    card = demo.method == "CARD"
    return Payment(
        id=demo_id("pay", demo.key),
        order_id=demo_id("ord", demo.key),
        order_number=order_number(demo, now),
        customer_id=demo_ids.CUSTOMER_USER,
        store_id=demo_ids.STORE_DOWNTOWN,
        method=demo.method,
        token=None,
        status="CAPTURED" if captured else "PENDING",
        amount=total(demo),
        currency=demo_ids.CURRENCY,
        refunded_amount=0,
        refund_count=0,
        gateway_reference=f"ch_demo_{demo.key}" if card else None,
        authorized_at=placed + timedelta(seconds=5) if card else None,
        captured_at=captured,
        order_data=order_data(demo),
        created_at=placed,
        updated_at=captured or placed,
    )


async def seed(runtime: SubgraphRuntime, *, now: datetime | None = None) -> None:
    """The demo orders' payments, and the invoices of those captured."""
    now = now or utcnow()
    async with runtime.db.session() as session:
        if await session.scalar(select(Payment.id).limit(1)):
            return
        for demo in DEMO_PAYMENTS:
            payment = _payment(demo, now)
            session.add(payment)
            await session.flush()
            if payment.captured_at is not None:
                await service.issue_invoice(
                    session=session, payment=payment, now=payment.captured_at
                )
        await session.commit()
