"""DataLoaders of the geo subgraph: one query per batch, per request."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from shared.subgraph import SubgraphRuntime
from subgraphs.geo.models import Store


@dataclass
class Loaders:
    """The loaders of one request."""

    store: DataLoader[str, Store | None]


def create_loaders(runtime: SubgraphRuntime) -> Loaders:
    """Fresh loaders for one request."""

    async def load_stores(ids: list[str]) -> list[Store | None]:
        async with runtime.db.session() as session:
            rows = {s.id: s for s in await session.scalars(select(Store).where(Store.id.in_(ids)))}
        return [rows.get(i) for i in ids]

    return Loaders(store=DataLoader(load_stores))
