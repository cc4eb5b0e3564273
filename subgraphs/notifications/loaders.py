"""DataLoaders of the notifications subgraph: one query per batch, per request."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from shared.subgraph import SubgraphRuntime
from subgraphs.notifications import service
from subgraphs.notifications.models import Preference


@dataclass
class Loaders:
    """The loaders of one request."""

    preferences: DataLoader[str, dict[str, bool]]


def create_loaders(runtime: SubgraphRuntime) -> Loaders:
    """Fresh loaders for one request."""

    async def load_preferences(user_ids: list[str]) -> list[dict[str, bool]]:
        chosen: dict[str, dict[str, bool]] = defaultdict(dict)
        async with runtime.db.session() as session:
            query = select(Preference).where(Preference.user_id.in_(user_ids))
            for row in await session.scalars(query):
                chosen[row.user_id][row.channel] = row.enabled
        return [{**service.DEFAULT_PREFERENCES, **chosen[i]} for i in user_ids]

    return Loaders(preferences=DataLoader(load_preferences))
