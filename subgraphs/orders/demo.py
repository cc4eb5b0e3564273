"""Demo orders of the demo customer (loaded once, when the database is empty).

Three orders handed over in the past week and one in the oven, so that ``make run``
shows an order history, a live tracker and a non-empty sales report at once. Ids are
stable (:func:`order_id`); payments seeds the same orders' payments and invoices
(``subgraphs/payments/demo.py``) with the same ids, numbers and amounts. Past orders
are placed at store-local dinner times of past days, counted from the day of seeding;
the one in progress was placed minutes before. Lines, prices, fee and tax are the demo
menu's and the demo store's (menu and geo seed them), priced by this subgraph's rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from shared import demo_ids
from shared.db import utcnow
from shared.ids import demo_id
from shared.subgraph import SubgraphRuntime
from subgraphs.orders import service
from subgraphs.orders.catalog import SMALL_ORDER_SURCHARGE, SMALL_ORDER_THRESHOLD
from subgraphs.orders.models import Order, OrderLine, OrderStage
from subgraphs.orders.pricing import price_breakdown, small_order_surcharge

STORE = demo_ids.STORE_DOWNTOWN
DELIVERY_FEE = 399
"""Downtown's delivery fee in geo's demo."""
TAX_BASIS_POINTS = 825
"""Austin's sales tax in geo's demo (8.25 %)."""
HOME = {
    "address_line1": "1100 Congress Ave",
    "address_city": demo_ids.CITY,
    "address_postcode": "78701",
    "address_lat": 30.2747,
    "address_lng": -97.7404,
    "address_instructions": "Ring twice.",
}
"""The demo customer's saved home address (users seeds it)."""
STAFF = demo_ids.STAFF_DOWNTOWN
CUSTOMER = demo_ids.CUSTOMER_USER


def order_id(key: str) -> str:
    """Id of the demo order ``key`` (``casey-1`` ... ``casey-4``)."""
    return demo_id("ord", key)


def payment_id(key: str) -> str:
    """Id of the payment of demo order ``key`` (payments seeds it with this id)."""
    return demo_id("pay", key)


@dataclass(frozen=True, slots=True)
class DemoLine:
    """One line as menu priced it (codes of ``subgraphs/menu/demo.py``; root category)."""

    product: str
    variant: str
    product_name: str
    variant_name: str
    category: str
    size: int | None
    quantity: int
    unit_price: int

    @property
    def description(self) -> str:
        """What menu writes for a line without changes."""
        if self.size is not None:
            return f"{self.variant_name} {self.product_name}"
        return f"{self.product_name} ({self.variant_name})"


@dataclass(frozen=True, slots=True)
class DemoOrder:
    """A demo order: when, how, what, and the stages it went through."""

    key: str
    days_ago: int
    """0: placed ``minutes_ago`` before seeding; else at ``local_time`` that many days ago."""
    service_method: str
    payment_method: str
    lines: tuple[DemoLine, ...]
    stages: tuple[tuple[str, int, str], ...]
    """(stage, minutes after placing, actor), PLACED first."""
    local_time: time = time(19, 0)
    minutes_ago: int = 12
    tip: int = 0


PEPPERONI_14 = DemoLine(
    "PEPPERONI", "PEPPERONI-14-HT", "Pepperoni Pizza", '14" Hand Tossed', "PIZZA", 14, 2, 1499
)
KNOTS_8 = DemoLine(
    "GARLIC_KNOTS", "GARLIC_KNOTS-8", "Garlic Knots", "8 pieces", "SIDES", None, 1, 599
)
MARGHERITA_12 = DemoLine(
    "MARGHERITA", "MARGHERITA-12-THIN", "Margherita Pizza", '12" Thin Crust', "PIZZA", 12, 1, 1299
)
COKE_20 = DemoLine("COKE", "COKE-20OZ", "Coca-Cola", "20 oz bottle", "DRINKS", None, 1, 249)
MEAT_LOVERS_16 = DemoLine(
    "MEAT_LOVERS", "MEAT_LOVERS-16-HT", "Meat Lovers Pizza", '16" Hand Tossed', "PIZZA", 16, 1, 1999
)
BROWNIE = DemoLine(
    "BROWNIE", "BROWNIE-9", "Chocolate Fudge Brownie", "9 pieces", "DESSERTS", None, 1, 699
)
TWISTS = DemoLine(
    "CINNAMON_TWISTS", "CINNAMON_TWISTS-8", "Cinnamon Twists", "8 pieces", "DESSERTS", None, 1, 599
)
WATER = DemoLine("WATER", "WATER-500ML", "Bottled Water", "500 ml", "DRINKS", None, 1, 199)

KITCHEN = (("PREP", 3, STAFF), ("BAKE", 9, STAFF), ("QUALITY_CHECK", 17, STAFF))
DEMO_ORDERS = (
    DemoOrder(
        key="casey-1",
        days_ago=6,
        local_time=time(19, 5),
        service_method="DELIVERY",
        payment_method="CARD",
        lines=(PEPPERONI_14, KNOTS_8),
        tip=300,
        stages=(
            ("PLACED", 0, CUSTOMER),
            *KITCHEN,
            ("OUT_FOR_DELIVERY", 21, "delivery"),
            ("DELIVERED", 38, "delivery"),
        ),
    ),
    DemoOrder(
        key="casey-2",
        days_ago=3,
        local_time=time(12, 40),
        service_method="CARRYOUT",
        payment_method="CASH",
        lines=(MARGHERITA_12, COKE_20),
        stages=(
            ("PLACED", 0, CUSTOMER),
            *KITCHEN,
            ("READY_FOR_PICKUP", 19, STAFF),
            ("PICKED_UP", 31, STAFF),
        ),
    ),
    DemoOrder(
        key="casey-3",
        days_ago=1,
        local_time=time(20, 15),
        service_method="DELIVERY",
        payment_method="CARD",
        lines=(MEAT_LOVERS_16, BROWNIE),
        tip=500,
        stages=(  # a busy evening: delivered after the 45-minute promise
            ("PLACED", 0, CUSTOMER),
            ("PREP", 6, STAFF),
            ("BAKE", 14, STAFF),
            ("QUALITY_CHECK", 23, STAFF),
            ("OUT_FOR_DELIVERY", 31, "delivery"),
            ("DELIVERED", 52, "delivery"),
        ),
    ),
    DemoOrder(
        key="casey-4",
        days_ago=0,
        minutes_ago=12,
        service_method="CARRYOUT",
        payment_method="CASH",
        lines=(TWISTS, WATER),  # below 10.00: the small-order surcharge applies
        stages=(("PLACED", 0, CUSTOMER), ("PREP", 4, STAFF), ("BAKE", 9, STAFF)),
    ),
)


def placed_at(order: DemoOrder, now: datetime) -> datetime:
    """When ``order`` was placed, for a seed run at ``now`` (UTC)."""
    if order.days_ago == 0:
        return now - timedelta(minutes=order.minutes_ago)
    zone = ZoneInfo(demo_ids.TIME_ZONE)
    day = now.astimezone(zone).date() - timedelta(days=order.days_ago)
    return datetime.combine(day, order.local_time, tzinfo=zone).astimezone(now.tzinfo)


def _lines(order: DemoOrder) -> list[OrderLine]:
    return [
        OrderLine(
            id=demo_id("oln", f"{order.key}-{position}"),
            position=position,
            product_id=demo_id("prd", line.product),
            variant_id=demo_id("var", line.variant),
            product_name=line.product_name,
            variant_name=line.variant_name,
            category_code=line.category,
            size=line.size,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            line_total=line.unit_price * line.quantity,
            customization={"toppings": [], "instructions": None},
        )
        for position, line in enumerate(order.lines)
    ]


def _stages(order: DemoOrder, placed: datetime) -> list[OrderStage]:
    return [
        OrderStage(
            id=demo_id("stg", f"{order.key}-{seq}"),
            seq=seq,
            stage=stage,
            at=placed + timedelta(minutes=minutes),
            actor=actor,
        )
        for seq, (stage, minutes, actor) in enumerate(order.stages)
    ]


async def _order(session, order: DemoOrder, now: datetime) -> Order:
    placed = placed_at(order, now)
    lines = _lines(order)
    subtotal = sum(line.line_total for line in lines)
    delivery = order.service_method == "DELIVERY"
    price = price_breakdown(
        subtotal=subtotal,
        currency=demo_ids.CURRENCY,
        tax_rate_basis_points=TAX_BASIS_POINTS,
        delivery_fee=DELIVERY_FEE if delivery else 0,
        surcharge=small_order_surcharge(
            subtotal=subtotal, threshold=SMALL_ORDER_THRESHOLD, amount=SMALL_ORDER_SURCHARGE
        ),
        tip=order.tip,
    )
    stages = _stages(order, placed)
    return Order(
        id=order_id(order.key),
        number=await service.next_order_number(
            session=session, store_id=STORE, now=placed, time_zone=demo_ids.TIME_ZONE
        ),
        customer_id=CUSTOMER,
        store_id=STORE,
        status=stages[-1].stage,
        service_method=order.service_method,
        currency=price.currency,
        subtotal=price.subtotal,
        discounts=price.discounts,
        delivery_fee=price.delivery_fee,
        surcharge=price.surcharge,
        tax=price.tax,
        tip=price.tip,
        total=price.total,
        tax_rate_basis_points=TAX_BASIS_POINTS,
        coupon_code=None,
        **(HOME if delivery else {}),
        payment_method=order.payment_method,
        payment_token=None,
        payment_id=payment_id(order.key),
        idempotency_key=f"demo-{order.key}",
        placed_at=placed,
        confirmed_at=placed + timedelta(seconds=5),
        updated_at=stages[-1].at,
        lines=lines,
        stages=stages,
    )


async def seed(runtime: SubgraphRuntime, *, now: datetime | None = None) -> None:
    """The demo customer's orders, with their lines and tracker stages."""
    now = now or utcnow()
    async with runtime.db.session() as session:
        if await session.scalar(select(Order.id).limit(1)):
            return
        for order in DEMO_ORDERS:
            session.add(await _order(session, order, now))
        await session.commit()
