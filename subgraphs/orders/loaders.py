"""DataLoaders of the orders subgraph: one query per batch, per request."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from shared.subgraph import SubgraphRuntime
from subgraphs.orders.models import Order


@dataclass
class Loaders:
    """The loaders of one request."""

    order: DataLoader[str, Order | None]


def create_loaders(runtime: SubgraphRuntime) -> Loaders:
    """Fresh loaders for one request."""

    async def load_orders(ids: list[str]) -> list[Order | None]:
        async with runtime.db.session() as session:
            rows = {o.id: o for o in await session.scalars(select(Order).where(Order.id.in_(ids)))}
        return [rows.get(i) for i in ids]

    return Loaders(order=DataLoader(load_orders))
