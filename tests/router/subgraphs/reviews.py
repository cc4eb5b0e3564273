"""Reviews subgraph: reviews, authors with ``@provides``, media as an ``@interfaceObject``, a mutation."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.federation import Schema

REVIEWS: list[dict[str, str]] = [
    {"id": "r1", "body": "Love it!", "author": "1", "product": "1"},
    {"id": "r2", "body": "Too expensive.", "author": "1", "product": "2"},
    {"id": "r3", "body": "Could be better.", "author": "2", "product": "3"},
    {"id": "r4", "body": "Prefer something else.", "author": "2", "product": "1"},
]
USERNAMES = {"1": "ada", "2": "alan"}
PRODUCT_NAMES = {"1": "Table", "2": "Couch", "3": "Chair"}
MEDIA_REVIEW_COUNTS = {"b1": 7, "m1": 3}


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID
    username: str = strawberry.federation.field(external=True)

    @strawberry.field
    def reviews(self) -> list[Review]:
        return [make_review(r) for r in REVIEWS if r["author"] == self.id]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> User:
        return User(id=id, username=USERNAMES.get(str(id), ""))


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: strawberry.ID
    name: str = strawberry.federation.field(shareable=True)

    @strawberry.field
    def reviews(self) -> list[Review]:
        return [make_review(r) for r in REVIEWS if r["product"] == self.upc]

    @classmethod
    def resolve_reference(cls, upc: strawberry.ID, **_: Any) -> Product:
        return Product(upc=upc, name=PRODUCT_NAMES.get(str(upc), ""))


@strawberry.federation.interface_object(keys=["id"])
class Media:
    """Books and movies as this subgraph sees them: an interface object with review counts."""

    id: strawberry.ID

    @strawberry.field
    def review_count(self) -> int:
        return MEDIA_REVIEW_COUNTS.get(str(self.id), 0)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Media:
        return Media(id=id)


@strawberry.federation.type(keys=["id"])
class Review:
    id: strawberry.ID
    body: str
    author_id: strawberry.Private[str]
    product_id: strawberry.Private[str]

    @strawberry.federation.field(provides=["username"])
    def author(self) -> User:
        return User(id=strawberry.ID(self.author_id), username=USERNAMES[self.author_id])

    @strawberry.field
    def product(self) -> Product:
        upc = self.product_id
        return Product(upc=strawberry.ID(upc), name=PRODUCT_NAMES.get(upc, ""))

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Review | None:
        row = next((r for r in REVIEWS if r["id"] == id), None)
        return make_review(row) if row else None


def make_review(row: dict[str, str]) -> Review:
    return Review(
        id=strawberry.ID(row["id"]),
        body=row["body"],
        author_id=row["author"],
        product_id=row["product"],
    )


@strawberry.type
class Query:
    @strawberry.field
    def top_reviews(self, first: int = 10) -> list[Review]:
        return [make_review(r) for r in REVIEWS[:first]]

    @strawberry.field
    def top_media(self) -> list[Media]:
        return [Media(id=strawberry.ID("m1")), Media(id=strawberry.ID("b1"))]


@strawberry.type
class Mutation:
    @strawberry.mutation
    def add_review(self, upc: strawberry.ID, body: str) -> Review:
        row = {"id": f"r{len(REVIEWS) + 1}", "body": body, "author": "1", "product": str(upc)}
        REVIEWS.append(row)
        return make_review(row)


schema = Schema(query=Query, mutation=Mutation, types=[Media], federation_version="2.11")
