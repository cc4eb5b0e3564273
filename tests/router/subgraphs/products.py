"""Products subgraph: products (price, weight), and media (an interface and a union)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import strawberry
from strawberry.federation import Schema

PRODUCTS: dict[str, dict[str, Any]] = {
    "1": {"name": "Table", "price": 899, "weight": 100},
    "2": {"name": "Couch", "price": 1299, "weight": 1000},
    "3": {"name": "Chair", "price": 54, "weight": 50},
}


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: strawberry.ID
    name: str = strawberry.federation.field(shareable=True)
    price: int
    weight: int

    @classmethod
    def resolve_reference(cls, upc: strawberry.ID, **_: Any) -> Product | None:
        return make_product(upc)


def make_product(upc: str) -> Product | None:
    row = PRODUCTS.get(str(upc))
    if row is None:
        return None
    return Product(upc=strawberry.ID(str(upc)), **row)


@strawberry.federation.interface(keys=["id"])
class Media:
    id: strawberry.ID
    title: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Media:
        return BOOKS.get(str(id)) or MOVIES[str(id)]


@strawberry.federation.type(keys=["id"])
class Book(Media):
    author: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Book:
        return BOOKS[str(id)]


@strawberry.federation.type(keys=["id"])
class Movie(Media):
    director: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID, **_: Any) -> Movie:
        return MOVIES[str(id)]


BOOKS = {"b1": Book(id=strawberry.ID("b1"), title="Dune", author="Herbert")}
MOVIES = {"m1": Movie(id=strawberry.ID("m1"), title="Alien", director="Scott")}

SearchResult = Annotated[Book | Movie | Product, strawberry.union("SearchResult")]


@strawberry.type
class Query:
    @strawberry.field
    def top_products(self, first: int = 5) -> list[Product]:
        return [p for p in (make_product(u) for u in list(PRODUCTS)[:first]) if p is not None]

    @strawberry.field
    def product(self, upc: strawberry.ID) -> Product | None:
        return make_product(upc)

    @strawberry.field
    def media(self) -> list[Media]:
        return [BOOKS["b1"], MOVIES["m1"]]

    @strawberry.field
    def search(self, term: str) -> list[SearchResult]:
        found: list[Any] = [
            m for m in [BOOKS["b1"], MOVIES["m1"]] if term.lower() in m.title.lower()
        ]
        found += [
            make_product(u) for u, row in PRODUCTS.items() if term.lower() in row["name"].lower()
        ]
        return found

    @strawberry.field
    async def slow_products(self) -> str:
        await asyncio.sleep(0.3)
        return "products"


schema = Schema(query=Query, types=[Book, Movie], federation_version="2.11")
