"""GraphQL schema of the reviews subgraph: ``Review``, ``Rating`` and moderation.

Thin: resolvers check the caller, call ``service`` and map rows to types. Extends
``Product`` and ``Driver`` (``rating``), ``Order`` (``review``) and ``User``
(``reviews``) as id-only stubs.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from shared import outbox
from shared.auth import require_principal
from shared.errors import DomainError
from shared.gql_types import PageInfo, decode_cursor, encode_cursor, page_info
from shared.subgraph import SubgraphContext, create_schema
from subgraphs.reviews import events, models, service

Ctx = Info[SubgraphContext, None]
MAX_PAGE = 100


@strawberry.enum(description="Where a review stands in moderation.")
class ReviewStatus(Enum):
    PENDING = strawberry.enum_value("PENDING", description="Waiting for staff; not counted.")
    APPROVED = strawberry.enum_value("APPROVED", description="Public and counted in ratings.")
    REJECTED = strawberry.enum_value("REJECTED", description="Hidden and not counted.")


@strawberry.enum(description="A moderator's decision on a review.")
class ModerationDecision(Enum):
    APPROVED = strawberry.enum_value("APPROVED", description="Publish it and count its stars.")
    REJECTED = strawberry.enum_value("REJECTED", description="Hide it; its stars stop counting.")


@strawberry.type(description="Approved stars of a product or driver.")
class Rating:
    average: float | None = strawberry.field(description="Mean stars; null without reviews.")
    count: int = strawberry.field(description="How many approved reviews count.")
    score: float | None = strawberry.field(
        description="Bayesian-smoothed stars (C*m + sum) / (C + count), for ranking."
    )

    @classmethod
    def from_summary(cls, summary: service.RatingSummary) -> Rating:
        return cls(average=summary.average, count=summary.count, score=summary.score)


@strawberry.federation.type(keys=["id"], description="A menu product (owned by menu).")
class Product:
    id: strawberry.ID = strawberry.field(description="Opaque id of the product.")

    @strawberry.field(description="Approved rating of the product.")
    async def rating(self, info: Ctx) -> Rating | None:
        return Rating.from_summary(await info.context.loaders.product_rating.load(str(self.id)))

    @strawberry.field(description="Approved reviews naming the product, newest first.")
    async def reviews(
        self,
        info: Ctx,
        first: Annotated[int, strawberry.argument(description="How many, at most 100.")] = 10,
    ) -> list[Review]:
        rows = await info.context.loaders.approved_by_product.load(str(self.id))
        return [Review.from_row(r) for r in rows[: max(0, min(first, MAX_PAGE))]]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Product:
        return cls(id=id)


@strawberry.federation.type(keys=["id"], description="A driver (owned by delivery).")
class Driver:
    id: strawberry.ID = strawberry.field(description="Opaque id of the driver (their user id).")

    @strawberry.field(description="Approved rating of the driver.")
    async def rating(self, info: Ctx) -> Rating | None:
        return Rating.from_summary(await info.context.loaders.driver_rating.load(str(self.id)))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Driver:
        return cls(id=id)


@strawberry.federation.type(keys=["id"], description="An order (owned by orders).")
class Order:
    id: strawberry.ID = strawberry.field(description="Opaque id of the order.")

    @strawberry.field(
        description="The customer's review of the order: public once approved, "
        "before that only for its author and staff."
    )
    async def review(self, info: Ctx) -> Review | None:
        row = await info.context.loaders.review_by_order.load(str(self.id))
        if row is None or not service.can_read(info.context.principal, row):
            return None
        return Review.from_row(row)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Order:
        return cls(id=id)


@strawberry.federation.type(keys=["id"], description="A person with an account (owned by users).")
class User:
    id: strawberry.ID = strawberry.field(description="Opaque id of the user.")

    @strawberry.field(
        description="Reviews the user wrote, newest first: all of them for the user and "
        "staff, approved ones for everybody else."
    )
    async def reviews(self, info: Ctx) -> list[Review]:
        rows = await info.context.loaders.reviews_by_customer.load(str(self.id))
        principal = info.context.principal
        return [Review.from_row(r) for r in rows if service.can_read(principal, r)]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)


@strawberry.type(description="A customer's review of a delivered order.")
class Review:
    id: strawberry.ID = strawberry.field(description="Opaque id of the review.")
    stars: int = strawberry.field(description="Stars for the order and its products, 1..5.")
    text: str | None = strawberry.field(description="What the customer wrote.")
    driver_stars: int | None = strawberry.field(description="Stars for the driver, 1..5.")
    status: ReviewStatus = strawberry.field(description="Moderation status.")
    created_at: datetime = strawberry.field(description="When it was posted.")
    moderated_at: datetime | None = strawberry.field(description="When staff decided on it.")
    _row: strawberry.Private[models.Review]

    @strawberry.field(description="The order reviewed.")
    def order(self) -> Order:
        return Order(id=strawberry.ID(self._row.order_id))

    @strawberry.field(description="Who wrote it.")
    def author(self) -> User:
        return User(id=strawberry.ID(self._row.customer_id))

    @strawberry.field(description="The driver rated, when driverStars were given.")
    def driver(self) -> Driver | None:
        return Driver(id=strawberry.ID(self._row.driver_id)) if self._row.driver_id else None

    @strawberry.field(description="The products rated with the review's stars.")
    async def products(self, info: Ctx) -> list[Product]:
        ids = await info.context.loaders.product_ids.load(self._row.id)
        return [Product(id=strawberry.ID(i)) for i in ids]

    @classmethod
    def from_row(cls, row: models.Review) -> Review:
        return cls(
            id=strawberry.ID(row.id),
            stars=row.stars,
            text=row.text,
            driver_stars=row.driver_stars,
            status=ReviewStatus(row.status),
            created_at=row.created_at,
            moderated_at=row.moderated_at,
            _row=row,
        )


@strawberry.type(description="One review in a list.")
class ReviewEdge:
    cursor: str = strawberry.field(description="Position of this edge.")
    node: Review = strawberry.field(description="The review.")


@strawberry.type(description="A page of reviews.")
class ReviewConnection:
    edges: list[ReviewEdge] = strawberry.field(description="The reviews of this page.")
    page_info: PageInfo = strawberry.field(description="Where this page sits.")
    total_count: int = strawberry.field(description="How many reviews match in all.")


def _offset(first: int, after: str | None) -> int:
    if not 0 < first <= MAX_PAGE:
        raise DomainError(f"first must be between 1 and {MAX_PAGE}.", field="first")
    try:
        return decode_cursor(after) + 1
    except ValueError as exc:
        raise DomainError("The cursor is not valid.", field="after") from exc


@strawberry.type(description="Reviews queries.")
class Query:
    @strawberry.field(description="Reviews waiting for moderation, oldest first (staff).")
    async def reviews_to_moderate(
        self,
        info: Ctx,
        first: Annotated[int, strawberry.argument(description="Page size, at most 100.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="Cursor to start after.")
        ] = None,
    ) -> ReviewConnection:
        principal = require_principal(info.context.principal)
        offset = _offset(first, after)
        async with info.context.db.session() as session:
            rows, total = await service.pending_reviews(
                session=session, principal=principal, offset=offset, limit=first
            )
        edges = [
            ReviewEdge(cursor=encode_cursor(offset + i), node=Review.from_row(r))
            for i, r in enumerate(rows)
        ]
        return ReviewConnection(
            edges=edges,
            total_count=total,
            page_info=page_info(
                offset=offset, count=len(rows), total=total, cursors=[e.cursor for e in edges]
            ),
        )


@strawberry.input(description="A review of one of the caller's delivered orders.")
class PostReviewInput:
    order_id: strawberry.ID = strawberry.field(description="The order reviewed.")
    stars: int = strawberry.field(description="Stars for the order and its products, 1..5.")
    text: str | None = strawberry.field(
        default=None, description="Optional words, up to 2000 characters."
    )
    product_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Products of the order the stars apply to."
    )
    driver_stars: int | None = strawberry.field(
        default=None, description="Stars for the driver, 1..5 (delivery orders)."
    )


@strawberry.input(description="A moderator's decision.")
class ModerateReviewInput:
    review_id: strawberry.ID = strawberry.field(description="The review.")
    decision: ModerationDecision = strawberry.field(description="Approve or reject.")
    note: str | None = strawberry.field(default=None, description="Why, for the record.")


@strawberry.type(description="Result of postReview.")
class PostReviewPayload:
    review: Review = strawberry.field(description="The new review, PENDING moderation.")


@strawberry.type(description="Result of moderateReview.")
class ModerateReviewPayload:
    review: Review = strawberry.field(description="The review with its new status.")


@strawberry.type(description="Reviews mutations.")
class Mutation:
    @strawberry.mutation(description="Review one of the caller's delivered orders (once).")
    async def post_review(
        self,
        info: Ctx,
        input: Annotated[
            PostReviewInput, strawberry.argument(description="The order, stars and text.")
        ],
    ) -> PostReviewPayload:
        principal = require_principal(info.context.principal)
        async with outbox.session(db=info.context.db, bus=info.context.runtime.bus) as session:
            review, product_ids = await service.post_review(
                session=session,
                principal=principal,
                order_id=str(input.order_id),
                stars=input.stars,
                text=input.text,
                product_ids=[str(p) for p in input.product_ids],
                driver_stars=input.driver_stars,
            )
            await events.stage_review_posted(session, review, product_ids)
            await session.commit()
        return PostReviewPayload(review=Review.from_row(review))

    @strawberry.mutation(description="Approve or reject a review (staff); ratings follow.")
    async def moderate_review(
        self,
        info: Ctx,
        input: Annotated[
            ModerateReviewInput, strawberry.argument(description="The review and the decision.")
        ],
    ) -> ModerateReviewPayload:
        principal = require_principal(info.context.principal)
        async with info.context.db.session() as session:
            review = await service.moderate_review(
                session=session,
                principal=principal,
                review_id=str(input.review_id),
                decision=input.decision.value,
                note=input.note,
            )
            await session.commit()
        return ModerateReviewPayload(review=Review.from_row(review))


schema = create_schema(query=Query, mutation=Mutation, types=(Product, Driver, Order, User))
