"""What geo publishes (nothing yet) and consumes (nothing yet).

Other subgraphs read stores through federation and ``deliveryQuote``; settings
changes take effect on the next quote, so no event is needed for them today.
"""

from __future__ import annotations

from shared.subgraph import SubgraphRuntime

SOURCE = "geo"


def register_consumers(runtime: SubgraphRuntime) -> None:
    """geo consumes no events yet."""
