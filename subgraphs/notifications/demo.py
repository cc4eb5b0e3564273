"""Demo data of notifications: the demo customer's contact, so email works at once."""

from __future__ import annotations

from sqlalchemy import select

from shared import demo_ids
from shared.subgraph import SubgraphRuntime
from subgraphs.notifications.models import Contact


async def seed(runtime: SubgraphRuntime) -> None:
    """The demo accounts' contacts (users seeds them without publishing UserRegistered)."""
    async with runtime.db.session() as session:
        if await session.scalar(select(Contact.user_id).limit(1)):
            return
        session.add(
            Contact(
                user_id=demo_ids.CUSTOMER_USER,
                email="customer@pizza.example",
                name="Casey Customer",
            )
        )
        session.add(
            Contact(user_id=demo_ids.ADMIN_USER, email="admin@pizza.example", name="Alex Admin")
        )
        await session.commit()
