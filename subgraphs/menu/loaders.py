"""DataLoaders of the menu subgraph: one query per batch, per request."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, or_, select
from strawberry.dataloader import DataLoader

from shared.subgraph import SubgraphRuntime
from subgraphs.menu.models import (
    Category,
    DefaultTopping,
    Product,
    Topping,
    ToppingAvailability,
    ToppingPrice,
    Variant,
    VariantAvailability,
)

K = TypeVar("K", bound=Hashable)
ALL = "all"
"""The one key of loaders that read a whole small table (toppings)."""


@dataclass
class Loaders:
    """The loaders of one request."""

    category: DataLoader[str, Category | None]
    categories_by_parent: DataLoader[str | None, list[Category]]
    product: DataLoader[str, Product | None]
    products_by_category: DataLoader[str, list[Product]]
    variant: DataLoader[str, Variant | None]
    variants_by_product: DataLoader[str, list[Variant]]
    default_toppings: DataLoader[str, list[DefaultTopping]]
    topping: DataLoader[str, Topping | None]
    toppings: DataLoader[str, list[Topping]]
    topping_prices: DataLoader[str, list[ToppingPrice]]
    unavailable_variants: DataLoader[str, frozenset[str]]
    unavailable_toppings: DataLoader[str, frozenset[str]]


def _group(rows: Iterable[Any], key: Callable[[Any], K], keys: list[K]) -> list[list[Any]]:
    grouped: dict[K, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return [grouped[k] for k in keys]


def create_loaders(runtime: SubgraphRuntime) -> Loaders:
    """Fresh loaders for one request."""
    db = runtime.db

    def by_id(model: Any) -> Callable[[list[str]], Any]:
        async def load(ids: list[str]) -> list[Any]:
            async with db.session() as session:
                rows = {
                    r.id: r for r in await session.scalars(select(model).where(model.id.in_(ids)))
                }
            return [rows.get(i) for i in ids]

        return load

    def grouped_by(model: Any, column: Any, *order: Any) -> Callable[[list[str]], Any]:
        async def load(keys: list[str]) -> list[list[Any]]:
            async with db.session() as session:
                rows = await session.scalars(select(model).where(column.in_(keys)).order_by(*order))
                return _group(rows, lambda r: getattr(r, column.key), keys)

        return load

    async def load_children(parent_ids: list[str | None]) -> list[list[Category]]:
        wanted = [p for p in parent_ids if p is not None]
        condition: ColumnElement[bool] = Category.parent_id.in_(wanted)
        if None in parent_ids:
            condition = or_(condition, Category.parent_id.is_(None))
        async with db.session() as session:
            rows = await session.scalars(
                select(Category).where(condition).order_by(Category.position)
            )
            return _group(rows, lambda c: c.parent_id, parent_ids)

    async def load_toppings(keys: list[str]) -> list[list[Topping]]:
        async with db.session() as session:
            rows = list(await session.scalars(select(Topping).order_by(Topping.position)))
        return [rows for _ in keys]

    def unavailable(model: Any, column: Any) -> Callable[[list[str]], Any]:
        async def load(store_ids: list[str]) -> list[frozenset[str]]:
            query = select(model.store_id, column).where(
                model.store_id.in_(store_ids), model.available.is_(False)
            )
            grouped: dict[str, set[str]] = defaultdict(set)
            async with db.session() as session:
                for store_id, item_id in await session.execute(query):
                    grouped[store_id].add(item_id)
            return [frozenset(grouped[s]) for s in store_ids]

        return load

    return Loaders(
        category=DataLoader(by_id(Category)),
        categories_by_parent=DataLoader(load_children),
        product=DataLoader(by_id(Product)),
        products_by_category=DataLoader(
            grouped_by(Product, Product.category_id, Product.position, Product.name)
        ),
        variant=DataLoader(by_id(Variant)),
        variants_by_product=DataLoader(grouped_by(Variant, Variant.product_id, Variant.position)),
        default_toppings=DataLoader(
            grouped_by(DefaultTopping, DefaultTopping.product_id, DefaultTopping.position)
        ),
        topping=DataLoader(by_id(Topping)),
        toppings=DataLoader(load_toppings),
        topping_prices=DataLoader(
            grouped_by(ToppingPrice, ToppingPrice.topping_id, ToppingPrice.size_inches)
        ),
        unavailable_variants=DataLoader(
            unavailable(VariantAvailability, VariantAvailability.variant_id)
        ),
        unavailable_toppings=DataLoader(
            unavailable(ToppingAvailability, ToppingAvailability.topping_id)
        ),
    )
