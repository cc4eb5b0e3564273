"""DataLoaders of the reviews subgraph: one query per batch, per request."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from shared.subgraph import SubgraphRuntime
from subgraphs.reviews import service
from subgraphs.reviews.models import Review, ReviewProduct


@dataclass
class Loaders:
    """The loaders of one request."""

    product_rating: DataLoader[str, service.RatingSummary]
    driver_rating: DataLoader[str, service.RatingSummary]
    review_by_order: DataLoader[str, Review | None]
    reviews_by_customer: DataLoader[str, list[Review]]
    approved_by_product: DataLoader[str, list[Review]]
    product_ids: DataLoader[str, list[str]]


def create_loaders(runtime: SubgraphRuntime) -> Loaders:
    """Fresh loaders for one request."""

    def rating_loader(subject_type: str) -> DataLoader[str, service.RatingSummary]:
        async def load(ids: list[str]) -> list[service.RatingSummary]:
            async with runtime.db.session() as session:
                found = await service.ratings(
                    session=session, subject_type=subject_type, subject_ids=ids
                )
            return [found.get(i, service.RatingSummary()) for i in ids]

        return DataLoader(load)

    async def load_by_order(order_ids: list[str]) -> list[Review | None]:
        async with runtime.db.session() as session:
            rows = await session.scalars(select(Review).where(Review.order_id.in_(order_ids)))
            found = {r.order_id: r for r in rows}
        return [found.get(i) for i in order_ids]

    async def load_by_customer(customer_ids: list[str]) -> list[list[Review]]:
        grouped: dict[str, list[Review]] = defaultdict(list)
        async with runtime.db.session() as session:
            query = (
                select(Review)
                .where(Review.customer_id.in_(customer_ids))
                .order_by(Review.created_at.desc(), Review.id)
            )
            for review in await session.scalars(query):
                grouped[review.customer_id].append(review)
        return [grouped[i] for i in customer_ids]

    async def load_by_product(product_ids: list[str]) -> list[list[Review]]:
        grouped: dict[str, list[Review]] = defaultdict(list)
        async with runtime.db.session() as session:
            query = (
                select(ReviewProduct.product_id, Review)
                .join(Review, Review.id == ReviewProduct.review_id)
                .where(ReviewProduct.product_id.in_(product_ids), Review.status == "APPROVED")
                .order_by(Review.created_at.desc(), Review.id)
            )
            for product_id, review in await session.execute(query):
                grouped[product_id].append(review)
        return [grouped[i] for i in product_ids]

    async def load_product_ids(review_ids: list[str]) -> list[list[str]]:
        grouped: dict[str, list[str]] = defaultdict(list)
        async with runtime.db.session() as session:
            query = (
                select(ReviewProduct)
                .where(ReviewProduct.review_id.in_(review_ids))
                .order_by(ReviewProduct.product_id)
            )
            for row in await session.scalars(query):
                grouped[row.review_id].append(row.product_id)
        return [grouped[i] for i in review_ids]

    return Loaders(
        product_rating=rating_loader(service.PRODUCT),
        driver_rating=rating_loader(service.DRIVER),
        review_by_order=DataLoader(load_by_order),
        reviews_by_customer=DataLoader(load_by_customer),
        approved_by_product=DataLoader(load_by_product),
        product_ids=DataLoader(load_product_ids),
    )
