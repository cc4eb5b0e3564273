"""DataLoaders of the users subgraph: one query per batch, per request."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from shared.subgraph import SubgraphRuntime
from subgraphs.users.models import Address, User


@dataclass
class Loaders:
    """The loaders of one request."""

    user: DataLoader[str, User | None]
    addresses: DataLoader[str, list[Address]]


def create_loaders(runtime: SubgraphRuntime) -> Loaders:
    """Fresh loaders for one request."""

    async def load_users(ids: list[str]) -> list[User | None]:
        async with runtime.db.session() as session:
            rows = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))}
        return [rows.get(i) for i in ids]

    async def load_addresses(user_ids: list[str]) -> list[list[Address]]:
        grouped: dict[str, list[Address]] = defaultdict(list)
        async with runtime.db.session() as session:
            query = (
                select(Address).where(Address.user_id.in_(user_ids)).order_by(Address.created_at)
            )
            for address in await session.scalars(query):
                grouped[address.user_id].append(address)
        return [grouped[i] for i in user_ids]

    return Loaders(user=DataLoader(load_users), addresses=DataLoader(load_addresses))
