"""Drivers follow their accounts in users: role changes, store moves, (de)activation.

users publishes ``UserRolesChanged``, ``UserDeactivated`` and ``UserReactivated`` with
the account as it is after the change; these tests publish such events on the bus.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from shared import demo_ids
from shared.bus import Event
from shared.settings import Settings
from subgraphs.delivery.models import Driver
from tests.conftest import bearer, gql
from tests.subgraphs.delivery.test_api import (
    ANA,
    ASSIGN,
    BEN,
    COMPLETE,
    NORTH,
    POST_POSITION,
    SET_STATUS,
    STORE,
    placed,
    publish,
    staff,
    status_changed,
    track,
)
from tests.subgraphs.delivery.test_drivers_from_users import (
    BOTH_DATABASES,
    registered,
    store_drivers,
)

EAST = demo_ids.STORE_EAST


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path) -> Settings:
    """SQLite, or PostgreSQL under ``BOTH_DATABASES`` (as in ``test_drivers_from_users``)."""
    if getattr(request, "param", "sqlite") == "postgres":
        return request.getfixturevalue("postgres_settings")
    return Settings(data_dir=tmp_path)


def account(
    event_type: str,
    user_id: str,
    *roles: str,
    store: str | None = STORE,
    active: bool = True,
    name: str = "Dana Driver",
    at: datetime | None = None,
) -> Event:
    """An account event as users publishes it."""
    payload = {
        "userId": user_id,
        "name": name,
        "roles": list(roles),
        "storeId": store,
        "active": active,
    }
    event = Event(type=event_type, source="users", payload=payload)
    if at is None:
        return event
    return Event(type=event_type, source="users", payload=payload, occurred_at=at.isoformat())


def roles_changed(user_id: str, *roles: str, **kwargs) -> Event:
    return account("UserRolesChanged", user_id, *roles, **kwargs)


def deactivated(user_id: str, **kwargs) -> Event:
    return account("UserDeactivated", user_id, "DRIVER", active=False, **kwargs)


def reactivated(user_id: str, **kwargs) -> Event:
    return account("UserReactivated", user_id, "DRIVER", **kwargs)


async def set_status(delivery, settings, driver_id: str, status: str) -> dict:
    return await gql(
        delivery,
        SET_STATUS,
        {"i": {"status": status}},
        headers=bearer(settings, driver_id, "DRIVER", store_id=STORE),
    )


async def driver_row(delivery, driver_id: str) -> Driver:
    async with delivery.runtime.db.session() as session:
        return await session.get(Driver, driver_id)


async def dispatch_one(bus, order_id: str = "ord_1") -> None:
    await publish(bus, placed(order_id), status_changed(order_id, "QUALITY_CHECK"))


async def deliver(delivery, settings, driver_id: str, order_id: str = "ord_1") -> None:
    driver = bearer(settings, driver_id, "DRIVER")
    await gql(delivery, POST_POSITION, {"i": NORTH}, headers=driver)
    await gql(delivery, COMPLETE, {"i": {"orderId": order_id}}, headers=driver)


# --- promotion --------------------------------------------------------------------------


@BOTH_DATABASES
async def test_a_user_made_driver_joins_off_duty_at_their_store(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, roles_changed("usr_dana", "CUSTOMER", "DRIVER"))
    assert (await store_drivers(delivery, settings))["usr_dana"] == {
        "id": "usr_dana",
        "firstName": "Dana",
        "status": "OFF_DUTY",
        "store": {"id": STORE},
        "lastPosition": None,
    }


async def test_a_role_change_without_the_driver_role_adds_no_driver(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, roles_changed("usr_sam", "STAFF"))
    assert "usr_sam" not in await store_drivers(delivery, settings)


async def test_a_registration_saying_the_account_is_inactive_adds_no_driver(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, registered("usr_dana", "DRIVER", storeId=STORE, active=False))
    assert "usr_dana" not in await store_drivers(delivery, settings)


# --- store moves ------------------------------------------------------------------------


async def test_an_idle_driver_moved_to_another_store_moves_off_duty(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, roles_changed(BEN, "DRIVER", store=EAST))
    assert BEN not in await store_drivers(delivery, settings)
    moved = (await store_drivers(delivery, settings, EAST))[BEN]
    assert (moved["store"], moved["status"]) == ({"id": EAST}, "OFF_DUTY")


async def test_a_driver_on_delivery_moves_once_their_order_is_done(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await dispatch_one(bus)
    await publish(bus, roles_changed(ANA, "DRIVER", store=EAST))
    assert (await store_drivers(delivery, settings))[ANA]["status"] == "ON_DELIVERY"
    await deliver(delivery, settings, ANA)
    assert ANA not in await store_drivers(delivery, settings)
    assert (await store_drivers(delivery, settings, EAST))[ANA]["status"] == "OFF_DUTY"


async def test_a_driver_about_to_move_takes_no_more_orders_of_their_old_store(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await dispatch_one(bus)
    await publish(bus, roles_changed(ANA, "DRIVER", store=EAST))
    await dispatch_one(bus, "ord_2")  # the same way: Ana, still at the store, would take it
    assert (await track(delivery, settings, "ord_2"))["driver"]["id"] == BEN


# --- losing the role, deactivation ------------------------------------------------------


async def test_a_driver_who_loses_the_role_goes_off_duty_and_is_not_dispatched(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, roles_changed(ANA, "CUSTOMER", store=None))
    assert (await store_drivers(delivery, settings))[ANA]["status"] == "OFF_DUTY"
    await dispatch_one(bus)
    assert (await track(delivery, settings, "ord_1"))["driver"]["id"] == BEN


@BOTH_DATABASES
async def test_a_deactivated_driver_cannot_go_on_duty(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, deactivated(ANA))
    body = await set_status(delivery, settings, ANA, "AVAILABLE")
    assert body["errors"][0]["extensions"] == {"code": "DRIVER_INACTIVE", "field": "status"}


async def test_staff_cannot_assign_a_deactivated_driver(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, placed("ord_1"), deactivated(BEN))
    body = await gql(
        delivery, ASSIGN, {"i": {"orderId": "ord_1", "driverId": BEN}}, headers=staff(settings)
    )
    assert body["errors"][0]["extensions"]["code"] == "DRIVER_NOT_AVAILABLE"


async def test_orders_of_a_deactivated_driver_stay_assigned_and_are_logged(
    start_subgraph, bus, settings, caplog
) -> None:
    delivery = await start_subgraph("delivery")
    await dispatch_one(bus)
    with caplog.at_level(logging.WARNING, logger="subgraphs.delivery.events"):
        await publish(bus, deactivated(ANA))
    tracked = await track(delivery, settings, "ord_1")
    assert (tracked["status"], tracked["driver"]["id"]) == ("ASSIGNED", ANA)
    assert any(ANA in r.getMessage() and "ord_1" in r.getMessage() for r in caplog.records)


async def test_a_deactivated_driver_gets_no_more_orders_while_carrying_one(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await dispatch_one(bus)
    await publish(bus, deactivated(ANA))
    await dispatch_one(bus, "ord_2")  # the same way: Ana, still at the store, would take it
    assert (await track(delivery, settings, "ord_2"))["driver"]["id"] == BEN


async def test_a_deactivated_driver_goes_off_duty_after_delivering(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await dispatch_one(bus)
    await publish(bus, deactivated(ANA))
    await deliver(delivery, settings, ANA)
    assert (await store_drivers(delivery, settings))[ANA]["status"] == "OFF_DUTY"


async def test_reassigning_a_deactivated_drivers_order_takes_them_off_duty(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await dispatch_one(bus)
    await publish(bus, deactivated(ANA))
    await gql(
        delivery, ASSIGN, {"i": {"orderId": "ord_1", "driverId": BEN}}, headers=staff(settings)
    )
    drivers = await store_drivers(delivery, settings)
    assert (drivers[ANA]["status"], drivers[BEN]["status"]) == ("OFF_DUTY", "ON_DELIVERY")


# --- reactivation -----------------------------------------------------------------------


@BOTH_DATABASES
async def test_a_reactivated_driver_can_go_on_duty_again(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, deactivated(ANA), reactivated(ANA))
    body = await set_status(delivery, settings, ANA, "AVAILABLE")
    assert body["data"]["setDriverStatus"]["driver"]["status"] == "AVAILABLE"


async def test_a_driver_given_the_role_back_can_go_on_duty_again(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, roles_changed(ANA, "CUSTOMER", store=None), roles_changed(ANA, "DRIVER"))
    body = await set_status(delivery, settings, ANA, "AVAILABLE")
    assert body["data"]["setDriverStatus"]["driver"]["status"] == "AVAILABLE"


async def test_a_reactivated_account_without_the_driver_role_stays_inactive(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, deactivated(ANA), account("UserReactivated", ANA, "CUSTOMER", store=None))
    assert not (await driver_row(delivery, ANA)).active


# --- redeliveries and late events -------------------------------------------------------


@BOTH_DATABASES
async def test_a_redelivered_deactivation_changes_nothing_twice(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    off = deactivated(ANA)
    await publish(bus, off, reactivated(ANA), off)  # the second ``off`` is a redelivery
    body = await set_status(delivery, settings, ANA, "AVAILABLE")
    assert body["data"]["setDriverStatus"]["driver"]["status"] == "AVAILABLE"


@BOTH_DATABASES
async def test_a_redelivered_move_changes_nothing_twice(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    move = roles_changed(BEN, "DRIVER", store=EAST)
    await publish(bus, move)
    await gql(
        delivery,
        SET_STATUS,
        {"i": {"status": "AVAILABLE"}},
        headers=bearer(settings, BEN, "DRIVER", store_id=EAST),
    )
    await publish(bus, move)  # must not take Ben off duty again
    assert (await store_drivers(delivery, settings, EAST))[BEN]["status"] == "AVAILABLE"


async def test_a_redelivered_promotion_does_not_reset_the_driver(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    promotion = roles_changed("usr_dana", "DRIVER")
    await publish(bus, promotion)
    await set_status(delivery, settings, "usr_dana", "AVAILABLE")
    await publish(bus, promotion)
    assert (await store_drivers(delivery, settings))["usr_dana"]["status"] == "AVAILABLE"


@BOTH_DATABASES
async def test_a_change_older_than_the_last_one_applied_is_ignored(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    now = datetime.now(UTC)
    # Deactivated, then reactivated; the reactivation's stream was read first.
    await publish(bus, reactivated(ANA, at=now), deactivated(ANA, at=now - timedelta(seconds=5)))
    assert (await driver_row(delivery, ANA)).active


@pytest.mark.parametrize("event_type", ["UserRolesChanged", "UserReactivated"])
async def test_an_unknown_account_that_is_not_a_driver_leaves_no_row(
    start_subgraph, bus, event_type
) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, account(event_type, "usr_pat", "PARTNER", store=None))
    assert await driver_row(delivery, "usr_pat") is None
