"""Inventory subgraph: stock per product and a shipping estimate that ``@requires`` price and weight."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry
from strawberry.federation import Schema

STOCK: dict[str, int] = {"1": 10, "2": 0, "3": 4}


@strawberry.federation.type(keys=["upc"])
class Product:
    upc: strawberry.ID
    price: int = strawberry.federation.field(external=True, default=-1)
    weight: int = strawberry.federation.field(external=True, default=-1)

    @strawberry.field
    def in_stock(self) -> bool:
        return STOCK.get(str(self.upc), 0) > 0

    @strawberry.field
    def stock_count(self) -> int | None:
        return STOCK.get(str(self.upc))

    @strawberry.federation.field(requires=["price", "weight"])
    def shipping_estimate(self) -> int | None:
        if self.price < 0 or self.weight < 0:
            raise ValueError("price and weight are required")
        # Free for expensive items, otherwise half the weight.
        return 0 if self.price > 1000 else self.weight // 2

    @strawberry.field(description="Fails for product 2.")
    def flaky(self) -> str | None:
        if self.upc == "2":
            raise ValueError("flaky failure")
        return f"ok-{self.upc}"

    @strawberry.field
    async def slow_stock(self) -> int | None:
        await asyncio.sleep(1.0)
        return STOCK.get(str(self.upc))

    @classmethod
    def resolve_reference(cls, upc: strawberry.ID, **fields: Any) -> Product:
        return Product(upc=upc, price=fields.get("price", -1), weight=fields.get("weight", -1))


@strawberry.type
class Query:
    @strawberry.field
    def warehouse_name(self) -> str:
        return "Main warehouse"


schema = Schema(query=Query, types=[Product], federation_version="2.11")
