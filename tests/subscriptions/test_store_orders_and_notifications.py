"""``storeOrders`` (staff of the store only) and ``myNotifications`` through the router."""

from __future__ import annotations

import asyncio

import pytest
from gql.transport.exceptions import TransportQueryError

from shared import demo_ids, live
from tests.subscriptions.conftest import World, eventually, multipart, request, ws_client

STORE_ORDERS = """
subscription($store: ID!) { storeOrders(storeId: $store) { id status customer { name } } }
"""
MY_NOTIFICATIONS = "subscription { myNotifications { title kind orderId read } }"


async def _listening(channel: str) -> None:
    async def subscribed() -> bool:
        return live.in_process_hub().subscriber_count(channel) > 0

    await eventually(subscribed)


async def test_staff_see_new_orders_of_their_store(world: World) -> None:
    async with asyncio.timeout(30), ws_client(world, world.staff) as session:
        events = session.subscribe(request(STORE_ORDERS, {"store": demo_ids.STORE_DOWNTOWN}))
        first = asyncio.ensure_future(anext(events))
        await _listening(live.store_orders_channel(demo_ids.STORE_DOWNTOWN))
        order_id = await world.place_order(world.alice, "CARRYOUT")
        event = (await first)["storeOrders"]
        while event["id"] != order_id:  # other tests' orders may pass by
            event = (await anext(events))["storeOrders"]
        assert event == {"id": order_id, "status": "PLACED", "customer": {"name": "Alice"}}
        await events.aclose()


async def test_customers_cannot_follow_a_store(world: World) -> None:
    async with asyncio.timeout(15), ws_client(world, world.alice) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(
                request(STORE_ORDERS, {"store": demo_ids.STORE_DOWNTOWN})
            ):
                pytest.fail("a customer followed a store")
    assert refused.value.errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_staff_cannot_follow_another_store(world: World) -> None:
    async with asyncio.timeout(15), ws_client(world, world.staff) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(
                request(STORE_ORDERS, {"store": demo_ids.STORE_SOUTH_LAMAR})
            ):
                pytest.fail("staff followed another store")
    assert refused.value.errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_new_in_app_notification_arrives_live_over_multipart(world: World) -> None:
    async with (
        asyncio.timeout(30),
        multipart(world, world.bob, MY_NOTIFICATIONS) as (response, parts),
    ):
        assert response.status_code == 200
        assert await anext(parts) == {}  # the first part: the stream is open
        await _listening(live.notifications_channel(str(world.bob.user_id)))
        order_id = await world.place_order(world.bob, "CARRYOUT")
        async for part in parts:
            if part == {}:
                continue
            notification = part["payload"]["data"]["myNotifications"]
            assert notification["orderId"] == order_id
            assert notification["read"] is False
            assert notification["title"]
            break
