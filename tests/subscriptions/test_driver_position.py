"""``driverPosition`` through the router: positions with their ETA as the driver posts them,
the customer and the driver may follow, others may not, and the stream ends at delivery."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError

from shared import demo_ids
from tests.subscriptions.conftest import World, eventually, request, ws_client

DRIVER_POSITION = """
subscription($id: ID!) {
  driverPosition(orderId: $id) { location { lat lng } heading at eta { minMinutes maxMinutes } }
}"""
DELIVERY = "query($id: ID!) { order(id: $id) { status delivery { status } } }"
AVAILABLE = "mutation { setDriverStatus(input: {status: AVAILABLE}) { driver { status } } }"
ASSIGN = """
mutation($id: ID!, $driver: ID!) {
  assignDriver(input: {orderId: $id, driverId: $driver}) { delivery { status } }
}"""
POST = """
mutation($lat: Float!, $lng: Float!) {
  postDriverPosition(input: {lat: $lat, lng: $lng, heading: 90}) { driver { id } }
}"""
COMPLETE = "mutation($id: ID!) { completeDelivery(input: {orderId: $id}) { delivery { status } } }"
ANA = next(i for i, (name, _) in demo_ids.DRIVERS.items() if name == "Ana")
ROUTE = [(30.2680, -97.7420), (30.2700, -97.7415), (30.2720, -97.7410)]


async def _order_on_its_way(world: World) -> str:
    order_id = await world.place_order(world.alice, "DELIVERY")

    async def delivery_exists() -> Any:
        return (await world.staff.data(DELIVERY, {"id": order_id}))["order"]["delivery"]

    await eventually(delivery_exists)
    await world.driver.data(AVAILABLE)
    await world.staff.data(ASSIGN, {"id": order_id, "driver": ANA})

    async def picked_up() -> bool:
        order = (await world.staff.data(DELIVERY, {"id": order_id}))["order"]
        return order["delivery"]["status"] == "PICKED_UP"

    await eventually(picked_up)
    return order_id


async def test_the_customer_receives_each_position_with_its_eta_until_delivery(
    world: World,
) -> None:
    order_id = await _order_on_its_way(world)
    await world.driver.data(POST, {"lat": 30.2660, "lng": -97.7425})  # before subscribing
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(30), ws_client(world, world.alice) as session:
        pending = list(ROUTE)
        async for event in session.subscribe(request(DRIVER_POSITION, {"id": order_id})):
            received.append(event["driverPosition"])
            if pending:  # the first event is where the driver is now
                lat, lng = pending.pop(0)
                await world.driver.data(POST, {"lat": lat, "lng": lng})
            elif len(received) == len(ROUTE) + 1:
                await world.driver.data(COMPLETE, {"id": order_id})
        # Ended by itself once the order was delivered.
    assert [p["location"]["lat"] for p in received] == [30.2660] + [lat for lat, _ in ROUTE]
    assert all(p["heading"] == 90 for p in received)
    eta = received[-1]["eta"]
    assert eta is not None and 0 <= eta["minMinutes"] <= eta["maxMinutes"]


async def test_another_customer_cannot_follow_the_driver(world: World) -> None:
    order_id = await world.place_order(world.alice, "DELIVERY")

    async def delivery_exists() -> Any:
        return (await world.staff.data(DELIVERY, {"id": order_id}))["order"]["delivery"]

    await eventually(delivery_exists)
    async with asyncio.timeout(15), ws_client(world, world.bob) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(request(DRIVER_POSITION, {"id": order_id})):
                pytest.fail("Bob followed Alice's driver")
    assert refused.value.errors[0]["extensions"]["code"] == "NOT_FOUND"
