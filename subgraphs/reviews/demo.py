"""Demo data of reviews: the demo customer's approved reviews (loaded once, when empty).

Six reviews so that ``make run`` shows ratings at once: on a few products (two of
them reviewed twice, so average and Bayesian score differ visibly) and on every demo
driver. They go through the same rules as real ones (``service.learn_order``,
``post_review``, then ``moderate_review`` by the downtown staff member), so the
rating aggregates are exactly what the rows add up to; only the times are moved
into the past afterwards.

Ids: the customer, drivers and staff come from :mod:`shared.demo_ids`. Products are
the menu's demo products: ``demo_id("prd", CODE)``, the ids ``subgraphs/menu/demo.py``
seeds (not in ``shared.demo_ids``). ``shared.demo_ids`` has no order ids, so orders
are named here: ``casey-1`` .. ``casey-3`` are the demo customer's past orders as
orders and payments seed them (``demo_id("ord", key)``, same keys); ``casey-earlier-*``
are older orders only reviews knows of (orders does not resolve them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared import demo_ids
from shared.auth import Principal
from shared.db import utcnow
from shared.ids import demo_id
from shared.subgraph import SubgraphRuntime
from subgraphs.reviews import service
from subgraphs.reviews.models import Review

CUSTOMER = Principal(user_id=demo_ids.CUSTOMER_USER, roles=frozenset({"CUSTOMER"}))
MODERATOR = Principal(
    user_id=demo_ids.STAFF_DOWNTOWN,
    roles=frozenset({"STAFF"}),
    store_id=demo_ids.STORE_DOWNTOWN,
)


def order_id(key: str) -> str:
    """Id of the demo order ``key`` (the id orders' demo gives ``casey-1`` .. ``casey-3``)."""
    return demo_id("ord", key)


def product_id(code: str) -> str:
    """Id of the menu's demo product ``code``, e.g. PEPPERONI."""
    return demo_id("prd", code)


def driver_id(first_name: str) -> str:
    """User id of the demo driver called ``first_name``."""
    return next(uid for uid, (name, _) in demo_ids.DRIVERS.items() if name == first_name)


@dataclass(frozen=True, slots=True)
class DemoReview:
    """One reviewed order: what was in it, who brought it, what the customer thought."""

    order_key: str
    days_ago: int
    """When the order was received (the review follows an hour later)."""
    products: tuple[str, ...]
    """Menu product codes of the order; the review rates them all."""
    stars: int
    text: str
    driver: str | None = None
    """First name of the demo driver; None for carryout."""
    driver_stars: int | None = None


DEMO_REVIEWS = (
    DemoReview(
        "casey-1",
        6,
        ("PEPPERONI", "GARLIC_KNOTS"),
        5,
        "Crispy pepperoni and the garlic knots were still warm. Ana was lovely.",
        "Ana",
        5,
    ),
    DemoReview("casey-2", 3, ("MARGHERITA", "COKE"), 4, "Great thin crust; more basil next time?"),
    DemoReview(
        "casey-3",
        1,
        ("MEAT_LOVERS", "BROWNIE"),
        3,
        "Tasty, but it came twenty minutes late and lukewarm.",
        "Ben",
        3,
    ),
    DemoReview(
        "casey-earlier-1",
        12,
        ("PEPPERONI", "WINGS"),
        4,
        "The wings stole the show. Carla found our building first try.",
        "Carla",
        5,
    ),
    DemoReview("casey-earlier-2", 19, ("MARGHERITA",), 5, "Best margherita in town.", "Dev", 4),
    DemoReview(
        "casey-earlier-3",
        26,
        ("HAWAIIAN",),
        4,
        "Pineapple on pizza, judge me. Perfect.",
        "Eli",
        5,
    ),
)


async def _review(session: AsyncSession, demo: DemoReview, now: datetime) -> None:
    received = now - timedelta(days=demo.days_ago)
    fact = await service.learn_order(
        session=session,
        order_id=order_id(demo.order_key),
        customer_id=CUSTOMER.user_id,
        driver_id=driver_id(demo.driver) if demo.driver else None,
        received=True,
        product_ids=[product_id(code) for code in demo.products],
    )
    fact.received_at = received
    review, _ = await service.post_review(
        session=session,
        principal=CUSTOMER,
        order_id=fact.order_id,
        stars=demo.stars,
        text=demo.text,
        product_ids=[product_id(code) for code in demo.products],
        driver_stars=demo.driver_stars,
    )
    review.created_at = received + timedelta(hours=1)
    await service.moderate_review(
        session=session, principal=MODERATOR, review_id=review.id, decision="APPROVED"
    )
    review.moderated_at = received + timedelta(hours=3)


async def seed(runtime: SubgraphRuntime, *, now: datetime | None = None) -> None:
    """The demo customer's approved reviews, their orders' facts and the ratings they make."""
    now = now or utcnow()
    async with runtime.db.session() as session:
        if await session.scalar(select(Review.id).limit(1)):
            return
        for demo in DEMO_REVIEWS:
            await _review(session, demo, now)
        await session.commit()
