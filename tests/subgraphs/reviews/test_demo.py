"""The demo reviews: ratings on products and every demo driver, consistent with the rows."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import select

from shared import demo_ids
from subgraphs.menu import demo as menu_demo
from subgraphs.reviews import demo, service
from subgraphs.reviews.models import RatingAggregate, Review, ReviewProduct
from tests.conftest import bearer, gql

RATINGS = """
query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Product { rating { average count score } }
  ... on Driver { rating { average count score } } } }
"""
MY_REVIEWS = "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { reviews { status order { id } } } } }"
POST = "mutation($i: PostReviewInput!) { postReview(input: $i) { review { id } } }"


async def ratings(client, typename: str, ids: list[str]) -> list[dict]:
    representations = [{"__typename": typename, "id": i} for i in ids]
    body = await gql(client, RATINGS, {"r": representations})
    return [entity["rating"] for entity in body["data"]["_entities"]]


def from_rows(reviews: list[Review], products: list[ReviewProduct]) -> dict[tuple, tuple]:
    """(subject type, id) -> (count, sum of stars), recomputed from the approved rows."""
    approved = {r.id: r for r in reviews if r.status == "APPROVED"}
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for row in products:
        if row.review_id in approved:
            totals[(service.PRODUCT, row.product_id)][0] += 1
            totals[(service.PRODUCT, row.product_id)][1] += approved[row.review_id].stars
    for review in approved.values():
        if review.driver_id and review.driver_stars is not None:
            totals[(service.DRIVER, review.driver_id)][0] += 1
            totals[(service.DRIVER, review.driver_id)][1] += review.driver_stars
    return {key: tuple(value) for key, value in totals.items()}


def test_the_reviewed_products_are_on_the_demo_menu() -> None:
    menu = {
        code: menu_demo.product_id(code) for code, *_ in menu_demo.PIZZAS + menu_demo.OTHER_PRODUCTS
    }
    reviewed = {code for review in demo.DEMO_REVIEWS for code in review.products}
    assert {code: demo.product_id(code) for code in reviewed}.items() <= menu.items()


async def test_every_demo_driver_has_a_rating(start_subgraph) -> None:
    reviews = await start_subgraph("reviews")
    found = await ratings(reviews, "Driver", list(demo_ids.DRIVERS))
    assert all(rating["count"] >= 1 for rating in found), found


async def test_a_product_reviewed_twice_shows_its_average_count_and_score(start_subgraph) -> None:
    reviews = await start_subgraph("reviews")
    [pepperoni] = await ratings(reviews, "Product", [demo.product_id("PEPPERONI")])
    assert pepperoni == {
        "average": 4.5,
        "count": 2,
        "score": pytest.approx(service.bayesian_score(count=2, stars_sum=9)),
    }


async def test_the_rating_aggregates_are_what_the_approved_rows_add_up_to(start_subgraph) -> None:
    client = await start_subgraph("reviews")
    async with client.runtime.db.session() as session:
        rows = list(await session.scalars(select(Review)))
        products = list(await session.scalars(select(ReviewProduct)))
        aggregates = list(await session.scalars(select(RatingAggregate)))
    assert len(rows) == len(demo.DEMO_REVIEWS)
    assert {(a.subject_type, a.subject_id): (a.count, a.stars_sum) for a in aggregates} == (
        from_rows(rows, products)
    )


async def test_the_demo_reviews_are_the_demo_customers_past_orders(start_subgraph) -> None:
    reviews = await start_subgraph("reviews")
    body = await gql(
        reviews, MY_REVIEWS, {"r": [{"__typename": "User", "id": demo_ids.CUSTOMER_USER}]}
    )
    mine = body["data"]["_entities"][0]["reviews"]
    assert {r["status"] for r in mine} == {"APPROVED"}
    assert {demo.order_id(f"casey-{n}") for n in (1, 2, 3)} <= {r["order"]["id"] for r in mine}


async def test_a_demo_order_cannot_be_reviewed_again(start_subgraph, settings) -> None:
    reviews = await start_subgraph("reviews")
    body = await gql(
        reviews,
        POST,
        {"i": {"orderId": demo.order_id("casey-1"), "stars": 1}},
        headers=bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER"),
    )
    assert body["errors"][0]["extensions"]["code"] == "ALREADY_REVIEWED"


async def test_seeding_again_adds_nothing(start_subgraph) -> None:
    client = await start_subgraph("reviews")
    await demo.seed(client.runtime)
    async with client.runtime.db.session() as session:
        count = len(list(await session.scalars(select(Review.id))))
    assert count == len(demo.DEMO_REVIEWS)


async def test_without_demo_data_there_are_no_reviews(start_subgraph) -> None:
    reviews = await start_subgraph("reviews", load_demo_data=False)
    [pepperoni] = await ratings(reviews, "Product", [demo.product_id("PEPPERONI")])
    assert pepperoni["count"] == 0
