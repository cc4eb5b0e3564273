"""Demo accounts of the demo city (loaded once, when the database is empty)."""

from __future__ import annotations

from sqlalchemy import select

from shared import demo_ids
from shared.db import utcnow
from shared.subgraph import SubgraphRuntime
from subgraphs.users.models import Address, User
from subgraphs.users.service import hash_password


async def seed(runtime: SubgraphRuntime) -> None:
    """Create the admin, a customer with an address, store staff and drivers."""
    async with runtime.db.session() as session:
        if await session.scalar(select(User.id).limit(1)):
            return
        password = hash_password(demo_ids.DEMO_PASSWORD)
        now = utcnow()
        people = [
            (demo_ids.ADMIN_USER, "admin@pizza.example", "Alex Admin", "ADMIN", None),
            (demo_ids.CUSTOMER_USER, "customer@pizza.example", "Casey Customer", "CUSTOMER", None),
            (
                demo_ids.STAFF_DOWNTOWN,
                "staff.downtown@pizza.example",
                "Sam Staff",
                "STAFF",
                demo_ids.STORE_DOWNTOWN,
            ),
        ]
        for user_id, (first, store) in demo_ids.DRIVERS.items():
            people.append(
                (
                    user_id,
                    f"{first.lower()}.driver@pizza.example",
                    f"{first} Driver",
                    "DRIVER",
                    store,
                )
            )
        for user_id, email, name, role, store in people:
            session.add(
                User(
                    id=user_id,
                    email=email,
                    name=name,
                    phone="+1 512 555 0100",
                    password_hash=password,
                    roles=role,
                    store_id=store,
                    created_at=now,
                )
            )
        await session.flush()
        session.add(
            Address(
                id="adr_demo_home",
                user_id=demo_ids.CUSTOMER_USER,
                label="Home",
                line1="1100 Congress Ave",
                line2=None,
                city=demo_ids.CITY,
                postcode="78701",
                lat=30.2747,
                lng=-97.7404,
                instructions="Ring twice.",
                is_default=True,
                created_at=now,
            )
        )
        await session.commit()
