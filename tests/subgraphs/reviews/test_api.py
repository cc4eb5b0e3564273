"""reviews through its GraphQL API, learning orders from events."""

from __future__ import annotations

import pytest

from shared import demo_ids
from shared.bus import Event
from subgraphs.reviews.service import bayesian_score
from tests.conftest import bearer, gql

CUSTOMER = demo_ids.CUSTOMER_USER
DRIVER = "usr_driver"

POST = "mutation($i: PostReviewInput!) { postReview(input: $i) { review { id status stars driverStars products { id } driver { id } } } }"
MODERATE = (
    "mutation($i: ModerateReviewInput!) { moderateReview(input: $i) { review { id status } } }"
)
ENTITIES = """
query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Product { id rating { average count score } reviews { id } }
  ... on Driver { id rating { average count score } }
  ... on Order { id review { id status stars } }
  ... on User { id reviews { id status } } } }
"""
TO_MODERATE = "{ reviewsToModerate(first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }"


def record(bus, *types: str) -> list[Event]:
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    bus.subscribe(group="test-recorder", types=types, handler=handler)
    return seen


async def deliver(
    bus,
    order_id: str,
    *,
    customer: str = CUSTOMER,
    driver: str | None = DRIVER,
    to: str = "DELIVERED",
    lines: list[dict] | None = None,
) -> None:
    placed = {
        "orderId": order_id,
        "customerId": customer,
        "storeId": demo_ids.STORE_DOWNTOWN,
        "serviceMethod": "DELIVERY",
    }
    if lines is not None:
        placed["lines"] = lines
    await bus.publish(Event(type="OrderPlaced", source="orders", payload=placed))
    if driver:
        await bus.publish(
            Event(
                type="DriverAssigned",
                source="delivery",
                payload={
                    "orderId": order_id,
                    "driverId": driver,
                    "customerId": customer,
                    "storeId": demo_ids.STORE_DOWNTOWN,
                },
            )
        )
    if to:
        await bus.publish(
            Event(
                type="OrderStatusChanged",
                source="orders",
                payload={
                    "orderId": order_id,
                    "customerId": customer,
                    "storeId": demo_ids.STORE_DOWNTOWN,
                    "serviceMethod": "DELIVERY",
                    "from": "OUT_FOR_DELIVERY",
                    "to": to,
                    "at": "2026-01-01T19:00:00+00:00",
                },
            )
        )
    await bus.drain()


def review_input(order_id: str = "ord_1", **extra) -> dict:
    return {
        "i": {
            "orderId": order_id,
            "stars": 4,
            "text": "Hot and on time",
            "productIds": ["prd_pep"],
            **extra,
        }
    }


def customer(settings, user: str = CUSTOMER) -> dict[str, str]:
    return bearer(settings, user, "CUSTOMER")


def staff(settings) -> dict[str, str]:
    return bearer(settings, demo_ids.STAFF_DOWNTOWN, "STAFF", store_id=demo_ids.STORE_DOWNTOWN)


async def entity(client, settings, typename: str, id_: str, headers=None) -> dict:
    body = await gql(
        client, ENTITIES, {"r": [{"__typename": typename, "id": id_}]}, headers=headers or {}
    )
    return body["data"]["_entities"][0]


async def test_customer_reviews_a_delivered_order_and_it_waits_for_moderation(
    start_subgraph, bus, settings
) -> None:
    reviews = await start_subgraph("reviews")
    posted = record(bus, "ReviewPosted")
    await deliver(bus, "ord_1")
    body = await gql(reviews, POST, review_input(driverStars=5), headers=customer(settings))
    await bus.drain()
    review = body["data"]["postReview"]["review"]
    assert review["status"] == "PENDING"
    assert review["products"] == [{"id": "prd_pep"}] and review["driver"] == {"id": DRIVER}
    assert [e.payload for e in posted] == [
        {
            "reviewId": review["id"],
            "orderId": "ord_1",
            "customerId": CUSTOMER,
            "stars": 4,
            "productIds": ["prd_pep"],
            "driverId": DRIVER,
        }
    ]


async def test_an_order_is_reviewed_once(start_subgraph, bus, settings) -> None:
    reviews = await start_subgraph("reviews")
    await deliver(bus, "ord_1")
    await gql(reviews, POST, review_input(), headers=customer(settings))
    again = await gql(reviews, POST, review_input(), headers=customer(settings))
    assert again["errors"][0]["extensions"]["code"] == "ALREADY_REVIEWED"


async def test_an_order_not_yet_delivered_cannot_be_reviewed(start_subgraph, bus, settings) -> None:
    reviews = await start_subgraph("reviews")
    await deliver(bus, "ord_1", to="")
    body = await gql(reviews, POST, review_input(), headers=customer(settings))
    assert body["errors"][0]["extensions"] == {"code": "ORDER_NOT_DELIVERED", "field": "orderId"}


async def test_picked_up_carryout_orders_can_be_reviewed_without_a_driver(
    start_subgraph, bus, settings
) -> None:
    reviews = await start_subgraph("reviews")
    await deliver(bus, "ord_1", driver=None, to="PICKED_UP")
    ok = await gql(reviews, POST, review_input(), headers=customer(settings))
    assert ok["data"]["postReview"]["review"]["driver"] is None
    await deliver(bus, "ord_2", driver=None, to="PICKED_UP")
    no_driver = await gql(
        reviews, POST, review_input("ord_2", driverStars=5), headers=customer(settings)
    )
    assert no_driver["errors"][0]["extensions"] == {"code": "NO_DRIVER", "field": "driverStars"}


async def test_someone_elses_order_is_not_found(start_subgraph, bus, settings) -> None:
    reviews = await start_subgraph("reviews")
    await deliver(bus, "ord_1")
    other = await gql(reviews, POST, review_input(), headers=customer(settings, "usr_other"))
    unknown = await gql(reviews, POST, review_input("ord_nope"), headers=customer(settings))
    assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"stars": 6}, "stars"), ({"stars": 0}, "stars"), ({"driverStars": 9}, "driverStars")],
)
async def test_stars_go_from_one_to_five(start_subgraph, bus, settings, extra, field) -> None:
    reviews = await start_subgraph("reviews")
    await deliver(bus, "ord_1")
    body = await gql(reviews, POST, review_input(**extra), headers=customer(settings))
    assert body["errors"][0]["extensions"] == {"code": "INVALID_STARS", "field": field}


async def test_products_must_be_in_the_order_when_its_lines_are_known(
    start_subgraph, bus, settings
) -> None:
    reviews = await start_subgraph("reviews")
    await deliver(bus, "ord_1", lines=[{"productId": "prd_pep"}, {"productId": "prd_cola"}])
    body = await gql(
        reviews, POST, review_input(productIds=["prd_pep", "prd_sushi"]), headers=customer(settings)
    )
    assert body["errors"][0]["extensions"] == {
        "code": "PRODUCT_NOT_IN_ORDER",
        "field": "productIds[1]",
    }


async def test_approval_updates_product_and_driver_ratings_and_rejection_reverts(
    start_subgraph, bus, settings
) -> None:
    reviews = await start_subgraph("reviews")
    await deliver(bus, "ord_1")
    posted = await gql(reviews, POST, review_input(driverStars=5), headers=customer(settings))
    review_id = posted["data"]["postReview"]["review"]["id"]
    denied = await gql(
        reviews,
        MODERATE,
        {"i": {"reviewId": review_id, "decision": "APPROVED"}},
        headers=customer(settings),
    )
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    for _ in range(2):  # approving twice counts once
        await gql(
            reviews,
            MODERATE,
            {"i": {"reviewId": review_id, "decision": "APPROVED"}},
            headers=staff(settings),
        )
    product = await entity(reviews, settings, "Product", "prd_pep")
    driver = await entity(reviews, settings, "Driver", DRIVER)
    assert product["rating"] == {
        "average": 4.0,
        "count": 1,
        "score": pytest.approx(bayesian_score(count=1, stars_sum=4)),
    }
    assert product["reviews"] == [{"id": review_id}]
    assert driver["rating"]["count"] == 1 and driver["rating"]["average"] == 5.0
    await gql(
        reviews,
        MODERATE,
        {"i": {"reviewId": review_id, "decision": "REJECTED", "note": "spam"}},
        headers=staff(settings),
    )
    product = await entity(reviews, settings, "Product", "prd_pep")
    assert product["rating"] == {
        "average": None,
        "count": 0,
        "score": bayesian_score(count=0, stars_sum=0),
    }
    assert product["reviews"] == []


async def test_pending_reviews_are_seen_only_by_their_author_and_staff(
    start_subgraph, bus, settings
) -> None:
    reviews = await start_subgraph("reviews", load_demo_data=False)  # no demo reviews of CUSTOMER
    await deliver(bus, "ord_1")
    posted = await gql(reviews, POST, review_input(), headers=customer(settings))
    review_id = posted["data"]["postReview"]["review"]["id"]
    assert (await entity(reviews, settings, "Order", "ord_1", customer(settings)))["review"][
        "status"
    ] == "PENDING"
    assert (await entity(reviews, settings, "Order", "ord_1", customer(settings, "usr_other")))[
        "review"
    ] is None
    assert (await entity(reviews, settings, "User", CUSTOMER))["reviews"] == []
    await gql(
        reviews,
        MODERATE,
        {"i": {"reviewId": review_id, "decision": "APPROVED"}},
        headers=staff(settings),
    )
    assert (await entity(reviews, settings, "Order", "ord_1"))["review"]["id"] == review_id
    assert (await entity(reviews, settings, "User", CUSTOMER))["reviews"] == [
        {"id": review_id, "status": "APPROVED"}
    ]


async def test_staff_page_through_reviews_to_moderate(start_subgraph, bus, settings) -> None:
    reviews = await start_subgraph("reviews")
    for order_id in ("ord_1", "ord_2"):
        await deliver(bus, order_id)
        await gql(reviews, POST, review_input(order_id), headers=customer(settings))
    page = (await gql(reviews, TO_MODERATE, headers=staff(settings)))["data"]["reviewsToModerate"]
    assert (
        page["totalCount"] == 2
        and len(page["edges"]) == 1
        and page["pageInfo"]["hasNextPage"] is True
    )
    denied = await gql(reviews, TO_MODERATE, headers=customer(settings))
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
