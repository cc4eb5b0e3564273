"""What menu publishes and consumes: nothing yet.

Menu answers questions (``priceLines``) rather than reacting to events; when
orders start applying coupons, redemption counts will arrive here as events.
"""

from __future__ import annotations

from shared.subgraph import SubgraphRuntime


def register_consumers(runtime: SubgraphRuntime) -> None:
    """menu consumes no events yet."""
