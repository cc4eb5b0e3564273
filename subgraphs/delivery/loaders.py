"""DataLoaders of the delivery subgraph: one query per batch, per request."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from shared.subgraph import SubgraphRuntime
from subgraphs.delivery.models import Delivery, Driver


@dataclass
class Loaders:
    """The loaders of one request."""

    driver: DataLoader[str, Driver | None]
    delivery_by_order: DataLoader[str, Delivery | None]
    drivers_by_store: DataLoader[str, list[Driver]]


def create_loaders(runtime: SubgraphRuntime) -> Loaders:
    """Fresh loaders for one request."""

    async def load_drivers(ids: list[str]) -> list[Driver | None]:
        async with runtime.db.session() as session:
            rows = {
                d.id: d for d in await session.scalars(select(Driver).where(Driver.id.in_(ids)))
            }
        return [rows.get(i) for i in ids]

    async def load_deliveries(order_ids: list[str]) -> list[Delivery | None]:
        async with runtime.db.session() as session:
            query = select(Delivery).where(Delivery.order_id.in_(order_ids))
            rows = {d.order_id: d for d in await session.scalars(query)}
        return [rows.get(i) for i in order_ids]

    async def load_store_drivers(store_ids: list[str]) -> list[list[Driver]]:
        grouped: dict[str, list[Driver]] = defaultdict(list)
        async with runtime.db.session() as session:
            query = (
                select(Driver)
                .where(Driver.store_id.in_(store_ids))
                .order_by(Driver.first_name, Driver.id)
            )
            for driver in await session.scalars(query):
                grouped[driver.store_id].append(driver)
        return [grouped[i] for i in store_ids]

    return Loaders(
        driver=DataLoader(load_drivers),
        delivery_by_order=DataLoader(load_deliveries),
        drivers_by_store=DataLoader(load_store_drivers),
    )
