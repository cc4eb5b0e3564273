"""Reviews' rules: who may review what, moderation, and Bayesian ratings.

Plain functions with keyword-only arguments; no GraphQL here.

What reviews knows of orders comes from events only (``order_facts``):
``OrderPlaced`` and ``OrderStatusChanged`` give the customer, reaching DELIVERED
(or PICKED_UP for carryout) marks the order received, ``DriverAssigned`` gives
the driver (the last assignment wins). ``OrderPlaced`` does not carry lines today,
so the products a review rates are the ``productIds`` the customer sends; if an
event ever carries the order's product ids (``productIds``, or ``lines[].productId``)
they are kept and a review naming any other product is refused with
PRODUCT_NOT_IN_ORDER.

Ratings count approved reviews only. Each approval adds the review's stars to the
aggregate of every product it names (and its driver stars to the driver's); a
later rejection subtracts them again, so aggregates stay exact without rescans.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, DomainError, Forbidden, NotFound
from shared.ids import new_id
from subgraphs.reviews.models import (
    HandledEvent,
    OrderFact,
    RatingAggregate,
    Review,
    ReviewProduct,
)

PRIOR_MEAN = 3.5
"""m: the rating we assume before any review (the chain-wide typical rating)."""
PRIOR_WEIGHT = 5
"""C: how many reviews the prior is worth; a handful of 5-star reviews cannot top the list."""
MIN_STARS, MAX_STARS = 1, 5
MAX_TEXT_LENGTH = 2000
MAX_PRODUCTS_PER_REVIEW = 25
RECEIVED_STATUSES = ("DELIVERED", "PICKED_UP")
PRODUCT, DRIVER = "PRODUCT", "DRIVER"


@dataclass(frozen=True, slots=True)
class RatingSummary:
    """The approved stars of one product or driver."""

    count: int = 0
    stars_sum: int = 0

    @property
    def average(self) -> float | None:
        """Plain mean of the stars; None without reviews."""
        return self.stars_sum / self.count if self.count else None

    @property
    def score(self) -> float:
        """The Bayesian-smoothed rating, for ranking (see :func:`bayesian_score`)."""
        return bayesian_score(count=self.count, stars_sum=self.stars_sum)


def bayesian_score(
    *,
    count: int,
    stars_sum: int,
    prior_mean: float = PRIOR_MEAN,
    prior_weight: float = PRIOR_WEIGHT,
) -> float:
    """(C * m + sum of stars) / (C + n): the mean pulled towards m while n is small."""
    return (prior_weight * prior_mean + stars_sum) / (prior_weight + count)


# --- what events teach us ---------------------------------------------------------------


async def record_event(*, session: AsyncSession, event_id: str, event_type: str) -> bool:
    """Remember an event as handled; False when it was handled before (a redelivery)."""
    if await session.get(HandledEvent, event_id) is not None:
        return False
    session.add(HandledEvent(event_id=event_id, event_type=event_type, handled_at=utcnow()))
    await session.flush()
    return True


async def learn_order(
    *,
    session: AsyncSession,
    order_id: str,
    customer_id: str,
    driver_id: str | None = None,
    received: bool = False,
    product_ids: Sequence[str] | None = None,
) -> OrderFact:
    """Merge what one event says about an order into its fact row."""
    fact = await session.get(OrderFact, order_id)
    if fact is None:
        fact = OrderFact(order_id=order_id, customer_id=customer_id)
        session.add(fact)
    if driver_id:
        fact.driver_id = driver_id
    if received and fact.received_at is None:
        fact.received_at = utcnow()
    if product_ids:
        fact.product_ids = ",".join(dict.fromkeys(product_ids))
    await session.flush()
    return fact


# --- reviews ----------------------------------------------------------------------------


def _check_stars(value: int, field: str) -> None:
    if not MIN_STARS <= value <= MAX_STARS:
        raise DomainError(
            f"Stars go from {MIN_STARS} to {MAX_STARS}.", code="INVALID_STARS", field=field
        )


def _reviewed_products(fact: OrderFact, product_ids: Sequence[str]) -> list[str]:
    unique = list(dict.fromkeys(p.strip() for p in product_ids if p.strip()))
    if len(unique) > MAX_PRODUCTS_PER_REVIEW:
        raise DomainError(
            f"A review rates at most {MAX_PRODUCTS_PER_REVIEW} products.",
            code="TOO_MANY_PRODUCTS",
            field="productIds",
        )
    if fact.product_ids is not None:
        contained = set(fact.product_ids.split(","))
        for index, product_id in enumerate(unique):
            if product_id not in contained:
                raise DomainError(
                    f"Product {product_id!r} was not in this order.",
                    code="PRODUCT_NOT_IN_ORDER",
                    field=f"productIds[{index}]",
                )
    return unique


async def post_review(
    *,
    session: AsyncSession,
    principal: Principal,
    order_id: str,
    stars: int,
    text: str | None = None,
    product_ids: Sequence[str] = (),
    driver_stars: int | None = None,
) -> tuple[Review, list[str]]:
    """The caller reviews one of their received orders, once; it waits for moderation."""
    _check_stars(stars, "stars")
    if driver_stars is not None:
        _check_stars(driver_stars, "driverStars")
    text = (text or "").strip() or None
    if text is not None and len(text) > MAX_TEXT_LENGTH:
        raise DomainError(
            f"The text is limited to {MAX_TEXT_LENGTH} characters.",
            code="TEXT_TOO_LONG",
            field="text",
        )
    fact = await session.get(OrderFact, order_id)
    if fact is None or fact.customer_id != principal.user_id:
        raise NotFound(f"No order of yours has id {order_id!r}.", field="orderId")
    if fact.received_at is None:
        raise Conflict(
            "Orders can be reviewed once they have been delivered.",
            code="ORDER_NOT_DELIVERED",
            field="orderId",
        )
    if driver_stars is not None and fact.driver_id is None:
        raise DomainError(
            "This order had no driver to rate.", code="NO_DRIVER", field="driverStars"
        )
    products = _reviewed_products(fact, product_ids)
    existing = await session.scalar(
        select(Review.id).where(Review.order_id == order_id, Review.customer_id == fact.customer_id)
    )
    if existing:
        raise Conflict("You have reviewed this order already.", code="ALREADY_REVIEWED")
    review = Review(
        id=new_id("rev"),
        order_id=order_id,
        customer_id=fact.customer_id,
        stars=stars,
        text=text,
        driver_id=fact.driver_id if driver_stars is not None else None,
        driver_stars=driver_stars,
        status="PENDING",
        created_at=utcnow(),
    )
    session.add(review)
    await session.flush()
    for product_id in products:
        session.add(ReviewProduct(review_id=review.id, product_id=product_id))
    await session.flush()
    return review, products


async def _adjust(
    session: AsyncSession, subject_type: str, subject_id: str, *, count: int, stars: int
) -> None:
    aggregate = await session.get(RatingAggregate, (subject_type, subject_id))
    if aggregate is None:
        aggregate = RatingAggregate(
            subject_type=subject_type, subject_id=subject_id, count=0, stars_sum=0
        )
        session.add(aggregate)
    aggregate.count += count
    aggregate.stars_sum += stars


async def _apply_to_ratings(session: AsyncSession, review: Review, sign: int) -> None:
    """Add (sign=1) or remove (sign=-1) a review's stars from the aggregates."""
    for product_id in await product_ids_of(session=session, review_id=review.id):
        await _adjust(session, PRODUCT, product_id, count=sign, stars=sign * review.stars)
    if review.driver_id and review.driver_stars is not None:
        await _adjust(
            session, DRIVER, review.driver_id, count=sign, stars=sign * review.driver_stars
        )


async def moderate_review(
    *,
    session: AsyncSession,
    principal: Principal,
    review_id: str,
    decision: str,
    note: str | None = None,
) -> Review:
    """Staff approve or reject a review; ratings follow incrementally."""
    if not principal.is_staff:
        raise Forbidden("Only staff can moderate reviews.")
    if decision not in ("APPROVED", "REJECTED"):
        raise DomainError(
            "A decision is APPROVED or REJECTED.", code="INVALID_DECISION", field="decision"
        )
    review = await session.get(Review, review_id)
    if review is None:
        raise NotFound(f"No review has id {review_id!r}.", field="reviewId")
    was_counted = review.status == "APPROVED"
    review.status = decision
    review.moderated_at = utcnow()
    review.moderated_by = principal.user_id
    review.moderation_note = note
    counted = decision == "APPROVED"
    if counted != was_counted:
        await _apply_to_ratings(session, review, 1 if counted else -1)
    await session.flush()
    return review


def can_read(principal: Principal | None, review: Review) -> bool:
    """Approved reviews are public; others only for their author and staff."""
    if review.status == "APPROVED":
        return True
    return principal is not None and (principal.user_id == review.customer_id or principal.is_staff)


async def product_ids_of(*, session: AsyncSession, review_id: str) -> list[str]:
    """The products a review rates."""
    rows = await session.scalars(
        select(ReviewProduct.product_id)
        .where(ReviewProduct.review_id == review_id)
        .order_by(ReviewProduct.product_id)
    )
    return list(rows)


async def ratings(
    *, session: AsyncSession, subject_type: str, subject_ids: Iterable[str]
) -> dict[str, RatingSummary]:
    """The rating of each product or driver (missing ids have no approved reviews)."""
    rows = await session.scalars(
        select(RatingAggregate).where(
            RatingAggregate.subject_type == subject_type,
            RatingAggregate.subject_id.in_(list(subject_ids)),
        )
    )
    return {r.subject_id: RatingSummary(count=r.count, stars_sum=r.stars_sum) for r in rows}


async def pending_reviews(
    *, session: AsyncSession, principal: Principal, offset: int, limit: int
) -> tuple[list[Review], int]:
    """Reviews waiting for moderation, oldest first, and how many there are (staff)."""
    if not principal.is_staff:
        raise Forbidden("Only staff can moderate reviews.")
    where = Review.status == "PENDING"
    rows = await session.scalars(
        select(Review)
        .where(where)
        .order_by(Review.created_at, Review.id)
        .offset(offset)
        .limit(limit)
    )
    total = await session.scalar(select(func.count(Review.id)).where(where))
    return list(rows), int(total or 0)
