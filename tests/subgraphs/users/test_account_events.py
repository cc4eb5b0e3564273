"""users announces account changes through its outbox, in the transaction of the change."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from shared import demo_ids
from shared.auth import Principal
from shared.bus import Event
from subgraphs.users import management, models
from tests.conftest import bearer, gql

ADMIN = Principal(user_id=demo_ids.ADMIN_USER, roles=frozenset({"ADMIN"}))
ANA = next(i for i, (name, _) in demo_ids.DRIVERS.items() if name == "Ana")
ACCOUNT_EVENTS = ("UserRegistered", "UserRolesChanged", "UserDeactivated", "UserReactivated")
CREATE = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }"
ROLES = "mutation($i: UpdateUserRolesInput!) { updateUserRoles(input: $i) { user { id } } }"
DEACTIVATE = "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { id } } }"
REACTIVATE = "mutation($id: ID!) { reactivateUser(input: {userId: $id}) { user { id } } }"


@pytest.fixture
async def users(start_subgraph):
    return await start_subgraph("users")


@pytest.fixture
def announced(bus) -> list[Event]:
    """Every account event the bus carries from now on."""
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    bus.subscribe(group="test-recorder", types=ACCOUNT_EVENTS, handler=handler)
    return seen


def admin(settings) -> dict[str, str]:
    return bearer(settings, demo_ids.ADMIN_USER, "ADMIN")


async def staged(session) -> list[tuple[str, dict]]:
    rows = await session.execute(
        select(models.outbox.c.type, models.outbox.c.payload).order_by(models.outbox.c.occurred_at)
    )
    return [(row.type, row.payload) for row in rows]


async def test_a_new_driver_is_announced_with_store_roles_and_active(
    users, bus, settings, announced
) -> None:
    body = await gql(
        users,
        CREATE,
        {
            "i": {
                "email": "dana@pizza.example",
                "name": "Dana Driver",
                "password": "a-long-password",
                "roles": ["DRIVER"],
                "storeId": demo_ids.STORE_EAST,
            }
        },
        headers=admin(settings),
    )
    await bus.drain()
    [event] = announced
    assert (event.type, event.payload) == (
        "UserRegistered",
        {
            "userId": body["data"]["createUser"]["user"]["id"],
            "email": "dana@pizza.example",
            "name": "Dana Driver",
            "roles": ["DRIVER"],
            "storeId": demo_ids.STORE_EAST,
            "active": True,
        },
    )


async def test_a_role_change_is_staged_with_the_change(users) -> None:
    async with users.runtime.db.session() as session:
        await management.update_user_roles(
            session=session,
            principal=ADMIN,
            user_id=demo_ids.CUSTOMER_USER,
            roles=["CUSTOMER", "DRIVER"],
            store_id=demo_ids.STORE_EAST,
        )
        assert await staged(session) == [
            (
                "UserRolesChanged",
                {
                    "userId": demo_ids.CUSTOMER_USER,
                    "name": "Casey Customer",
                    "roles": ["CUSTOMER", "DRIVER"],
                    "storeId": demo_ids.STORE_EAST,
                    "active": True,
                },
            )
        ]


async def test_a_change_rolled_back_announces_nothing(users) -> None:
    async with users.runtime.db.session() as session:
        await management.set_user_active(
            session=session, principal=ADMIN, user_id=ANA, active=False
        )
        await session.rollback()
        assert await staged(session) == []


async def test_setting_the_same_roles_and_store_announces_nothing(users) -> None:
    async with users.runtime.db.session() as session:
        user = await session.get(models.User, ANA)
        await management.update_user_roles(
            session=session,
            principal=ADMIN,
            user_id=ANA,
            roles=user.role_list,
            store_id=user.store_id,
        )
        assert await staged(session) == []


async def test_a_store_change_alone_is_a_roles_change(users) -> None:
    async with users.runtime.db.session() as session:
        await management.update_user_roles(
            session=session,
            principal=ADMIN,
            user_id=ANA,
            roles=["DRIVER"],
            store_id=demo_ids.STORE_EAST,
        )
        [(event_type, payload)] = await staged(session)
        assert (event_type, payload["storeId"]) == ("UserRolesChanged", demo_ids.STORE_EAST)


async def test_deactivating_twice_announces_once(users) -> None:
    async with users.runtime.db.session() as session:
        for _ in range(2):
            await management.set_user_active(
                session=session, principal=ADMIN, user_id=ANA, active=False
            )
        assert [(t, p["active"]) for t, p in await staged(session)] == [("UserDeactivated", False)]


async def test_reactivating_an_active_account_announces_nothing(users) -> None:
    async with users.runtime.db.session() as session:
        await management.set_user_active(session=session, principal=ADMIN, user_id=ANA, active=True)
        assert await staged(session) == []


async def test_the_admin_mutations_publish_their_events(users, bus, settings, announced) -> None:
    headers = admin(settings)
    await gql(users, DEACTIVATE, {"id": ANA}, headers=headers)
    await gql(users, REACTIVATE, {"id": ANA}, headers=headers)
    await gql(users, ROLES, {"i": {"userId": ANA, "roles": ["CUSTOMER"]}}, headers=headers)
    await bus.drain()
    assert [(e.type, e.payload["active"], e.payload["roles"]) for e in announced] == [
        ("UserDeactivated", False, ["DRIVER"]),
        ("UserReactivated", True, ["DRIVER"]),
        ("UserRolesChanged", True, ["CUSTOMER"]),
    ]
    assert announced[-1].payload["storeId"] is None
