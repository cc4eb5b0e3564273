"""reviews rules without GraphQL: the Bayesian score and incremental aggregates."""

from __future__ import annotations

import pytest

from shared.auth import Principal
from subgraphs.reviews import service
from subgraphs.reviews.service import PRIOR_MEAN, PRIOR_WEIGHT, RatingSummary, bayesian_score

CUSTOMER = Principal(user_id="usr_c", roles=frozenset({"CUSTOMER"}))
STAFF = Principal(user_id="usr_s", roles=frozenset({"STAFF"}), store_id="sto_1")


def test_score_without_reviews_is_the_prior_mean() -> None:
    assert bayesian_score(count=0, stars_sum=0) == PRIOR_MEAN


def test_score_is_c_times_m_plus_stars_over_c_plus_n() -> None:
    expected = (PRIOR_WEIGHT * PRIOR_MEAN + 10) / (PRIOR_WEIGHT + 2)
    assert bayesian_score(count=2, stars_sum=10) == pytest.approx(expected)


def test_many_good_reviews_outrank_a_couple_of_perfect_ones() -> None:
    two_perfect = RatingSummary(count=2, stars_sum=10)
    hundred_good = RatingSummary(count=100, stars_sum=450)
    assert two_perfect.average > hundred_good.average
    assert hundred_good.score > two_perfect.score


def test_average_is_none_without_reviews() -> None:
    assert RatingSummary().average is None


async def _delivered_review(session, order_id: str, stars: int, products: list[str]):
    await service.learn_order(
        session=session, order_id=order_id, customer_id="usr_c", driver_id="usr_d", received=True
    )
    review, _ = await service.post_review(
        session=session,
        principal=CUSTOMER,
        order_id=order_id,
        stars=stars,
        product_ids=products,
        driver_stars=stars,
    )
    return review


async def _rating(session, subject_type: str, subject_id: str) -> RatingSummary:
    found = await service.ratings(
        session=session, subject_type=subject_type, subject_ids=[subject_id]
    )
    return found.get(subject_id, RatingSummary())


async def test_aggregates_count_approved_reviews_only_and_follow_rejection(start_subgraph) -> None:
    reviews = await start_subgraph("reviews")
    async with reviews.runtime.db.session() as session:
        first = await _delivered_review(session, "ord_1", 5, ["prd_a", "prd_b"])
        second = await _delivered_review(session, "ord_2", 3, ["prd_a"])
        assert await _rating(session, service.PRODUCT, "prd_a") == RatingSummary(0, 0)
        for review in (first, second):
            await service.moderate_review(
                session=session, principal=STAFF, review_id=review.id, decision="APPROVED"
            )
        await service.moderate_review(
            session=session, principal=STAFF, review_id=second.id, decision="APPROVED"
        )
        assert await _rating(session, service.PRODUCT, "prd_a") == RatingSummary(2, 8)
        assert await _rating(session, service.PRODUCT, "prd_b") == RatingSummary(1, 5)
        assert await _rating(session, service.DRIVER, "usr_d") == RatingSummary(2, 8)
        await service.moderate_review(
            session=session, principal=STAFF, review_id=first.id, decision="REJECTED"
        )
        assert await _rating(session, service.PRODUCT, "prd_a") == RatingSummary(1, 3)
        assert await _rating(session, service.PRODUCT, "prd_b") == RatingSummary(0, 0)
        assert await _rating(session, service.DRIVER, "usr_d") == RatingSummary(1, 3)
