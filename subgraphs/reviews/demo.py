"""Demo data of reviews: none; reviews come from delivered demo orders."""

from __future__ import annotations

from shared.subgraph import SubgraphRuntime


async def seed(runtime: SubgraphRuntime) -> None:
    """Nothing to seed: reviews need delivered orders, which only events create."""
