"""Accounts admins manage in users reach delivery: new drivers join it, deactivated ones leave.

The tests through the users subgraph run on SQLite (embedded mode) and on real PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from shared import demo_ids
from shared.bus import Event
from shared.settings import Settings
from shared.subgraph_client import SubgraphUnavailable
from subgraphs.delivery.accounts import EXTRAS_KEY, Account
from tests.conftest import bearer, gql
from tests.subgraphs.delivery.test_api import (
    DRIVERS,
    SET_STATUS,
    STORE,
    placed,
    publish,
    staff,
    status_changed,
    track,
)

CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }"
ADMIN = demo_ids.ADMIN_USER


BOTH_DATABASES = pytest.mark.parametrize(
    "settings", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path) -> Settings:
    """Overrides ``tests/conftest.py``: SQLite, or PostgreSQL under ``BOTH_DATABASES``."""
    if getattr(request, "param", "sqlite") == "postgres":
        return request.getfixturevalue("postgres_settings")
    return Settings(data_dir=tmp_path)


@dataclass
class FakeAccounts:
    """users as delivery sees it: known accounts, and how often it was asked."""

    accounts: dict[str, Account] = field(default_factory=dict)
    failures: int = 0
    asked: list[str] = field(default_factory=list)

    async def get(self, user_id: str) -> Account | None:
        self.asked.append(user_id)
        if self.failures:
            self.failures -= 1
            raise SubgraphUnavailable("users is down")
        return self.accounts.get(user_id)


def registered(user_id: str, *roles: str, name: str = "Dana Driver", **extra) -> Event:
    payload = {"userId": user_id, "email": f"{user_id}@x.test", "name": name, "roles": list(roles)}
    return Event(type="UserRegistered", source="users", payload={**payload, **extra})


def driver_account(user_id: str, *, active: bool = True) -> Account:
    return Account(
        user_id=user_id,
        first_name="Dana",
        store_id=STORE,
        roles=frozenset({"DRIVER"}),
        active=active,
    )


async def store_drivers(delivery, settings, store: str = STORE) -> dict[str, dict]:
    body = await gql(delivery, DRIVERS, {"s": store}, headers=staff(settings, store))
    return {d["id"]: d for d in body["data"]["drivers"]}


async def create_driver(users, bus, settings, email: str = "dana@pizza.example") -> str:
    body = await gql(
        users,
        CREATE_USER,
        {
            "i": {
                "email": email,
                "name": "Dana Driver",
                "password": "a-long-password",
                "roles": ["DRIVER"],
                "storeId": STORE,
            }
        },
        headers=bearer(settings, ADMIN, "ADMIN"),
    )
    await bus.drain()
    return body["data"]["createUser"]["user"]["id"]


@BOTH_DATABASES
async def test_a_driver_an_admin_creates_joins_delivery_off_duty_at_their_store(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    users = await start_subgraph("users")
    driver_id = await create_driver(users, bus, settings)
    assert (await store_drivers(delivery, settings))[driver_id] == {
        "id": driver_id,
        "firstName": "Dana",
        "status": "OFF_DUTY",
        "store": {"id": STORE},
        "lastPosition": None,
    }


@BOTH_DATABASES
async def test_the_new_driver_goes_on_duty_and_is_dispatched(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery", load_demo_data=False)  # the only driver
    users = await start_subgraph("users")
    driver_id = await create_driver(users, bus, settings)
    on_duty = await gql(
        delivery,
        SET_STATUS,
        {"i": {"status": "AVAILABLE"}},
        headers=bearer(settings, driver_id, "DRIVER", store_id=STORE),
    )
    assert on_duty["data"]["setDriverStatus"]["driver"]["status"] == "AVAILABLE"
    await publish(bus, placed("ord_1"), status_changed("ord_1", "QUALITY_CHECK"))
    tracked = await track(delivery, settings, "ord_1")
    assert tracked["driver"] == {"id": driver_id, "firstName": "Dana", "status": "ON_DELIVERY"}


async def test_accounts_without_the_driver_role_are_not_drivers(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    accounts = delivery.runtime.extras[EXTRAS_KEY] = FakeAccounts()
    await publish(bus, registered("usr_staff", "STAFF"), registered("usr_cust", "CUSTOMER"))
    assert accounts.asked == []
    assert not {"usr_staff", "usr_cust"} & set(await store_drivers(delivery, settings))


async def test_a_store_in_the_event_is_used_without_asking_users(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    accounts = delivery.runtime.extras[EXTRAS_KEY] = FakeAccounts()
    await publish(bus, registered("usr_dana", "DRIVER", storeId=STORE))
    assert accounts.asked == []
    assert (await store_drivers(delivery, settings))["usr_dana"]["firstName"] == "Dana"


async def test_a_redelivered_registration_adds_the_driver_once(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    delivery.runtime.extras[EXTRAS_KEY] = FakeAccounts({"usr_dana": driver_account("usr_dana")})
    event = registered("usr_dana", "DRIVER")
    await publish(bus, event)
    await gql(
        delivery,
        SET_STATUS,
        {"i": {"status": "AVAILABLE"}},
        headers=bearer(settings, "usr_dana", "DRIVER", store_id=STORE),
    )
    await publish(bus, event)  # the redelivery must not put the driver back OFF_DUTY
    assert (await store_drivers(delivery, settings))["usr_dana"]["status"] == "AVAILABLE"


async def test_a_known_driver_is_not_reset_by_a_new_event(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    ana = next(i for i, (name, _) in demo_ids.DRIVERS.items() if name == "Ana")
    await publish(bus, registered(ana, "DRIVER", name="Someone Else", storeId=STORE))
    driver = (await store_drivers(delivery, settings))[ana]
    assert (driver["firstName"], driver["status"]) == ("Ana", "AVAILABLE")


async def test_the_driver_is_added_once_users_answers_again(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    accounts = FakeAccounts({"usr_dana": driver_account("usr_dana")}, failures=2)
    delivery.runtime.extras[EXTRAS_KEY] = accounts
    await publish(bus, registered("usr_dana", "DRIVER"))
    assert accounts.asked == ["usr_dana"] * 3
    assert (await store_drivers(delivery, settings))["usr_dana"]["status"] == "OFF_DUTY"


async def test_a_driver_users_does_not_know_is_skipped(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    delivery.runtime.extras[EXTRAS_KEY] = FakeAccounts()
    await publish(bus, registered("usr_ghost", "DRIVER"))
    assert "usr_ghost" not in await store_drivers(delivery, settings)


async def test_an_account_deactivated_before_delivery_heard_of_it_is_skipped(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    delivery.runtime.extras[EXTRAS_KEY] = FakeAccounts(
        {"usr_dana": driver_account("usr_dana", active=False)}
    )
    await publish(bus, registered("usr_dana", "DRIVER"))
    assert "usr_dana" not in await store_drivers(delivery, settings)


DEACTIVATE = "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { user { active } } }"


@BOTH_DATABASES
async def test_a_driver_an_admin_deactivates_is_no_longer_dispatched(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    users = await start_subgraph("users")
    ana = next(i for i, (name, _) in demo_ids.DRIVERS.items() if name == "Ana")  # the nearest
    body = await gql(users, DEACTIVATE, {"id": ana}, headers=bearer(settings, ADMIN, "ADMIN"))
    assert body["data"]["deactivateUser"]["user"] == {"active": False}
    await bus.drain()
    await publish(bus, placed("ord_1"), status_changed("ord_1", "QUALITY_CHECK"))
    assert (await track(delivery, settings, "ord_1"))["driver"]["firstName"] == "Ben"
    assert (await store_drivers(delivery, settings))[ana]["status"] == "OFF_DUTY"
