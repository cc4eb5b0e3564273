"""What users publishes (``UserRegistered``) and consumes (nothing yet)."""

from __future__ import annotations

from shared.bus import Event
from shared.subgraph import SubgraphRuntime
from subgraphs.users.models import User

SOURCE = "users"


async def publish_user_registered(runtime: SubgraphRuntime, user: User) -> None:
    """Announce a new account (notifications greets it; analytics counts it)."""
    await runtime.bus.publish(
        Event(
            type="UserRegistered",
            source=SOURCE,
            payload={
                "userId": user.id,
                "email": user.email,
                "name": user.name,
                "roles": user.role_list,
            },
        )
    )


def register_consumers(runtime: SubgraphRuntime) -> None:
    """users consumes no events yet."""
