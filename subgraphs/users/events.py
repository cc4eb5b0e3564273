"""What users publishes (``UserRegistered``, through the outbox) and consumes (nothing yet)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.bus import Event
from shared.subgraph import SubgraphRuntime
from subgraphs.users.models import User

SOURCE = "users"


async def stage_user_registered(session: AsyncSession, user: User) -> None:
    """Announce a new account (notifications greets it; analytics counts it)."""
    await outbox.stage(
        session,
        Event(
            type="UserRegistered",
            source=SOURCE,
            payload={
                "userId": user.id,
                "email": user.email,
                "name": user.name,
                "roles": user.role_list,
            },
        ),
    )


def register_consumers(runtime: SubgraphRuntime) -> None:
    """users consumes no events yet."""
