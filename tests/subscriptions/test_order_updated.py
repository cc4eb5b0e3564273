"""``orderUpdated`` through the router: each stage live, the rest of the selection from other
subgraphs, completion at the end of the tracker, over WebSocket and multipart HTTP."""

from __future__ import annotations

import asyncio

import pytest
from gql.transport.exceptions import TransportQueryError

from tests.subscriptions.conftest import ADVANCE, World, multipart, request, ws_client

ORDER_UPDATED = """
subscription Track($id: ID!) {
  orderUpdated(orderId: $id) {
    id
    status
    stages { stage at }
    customer { name }
    store { name }
  }
}"""
CANCEL = """
mutation($id: ID!) { cancelOrder(input: {orderId: $id, reason: "changed my mind"}) { order { status } } }
"""
CARRYOUT_PATH = ["PLACED", "PREP", "BAKE", "QUALITY_CHECK", "READY_FOR_PICKUP", "PICKED_UP"]


async def test_the_customer_follows_every_stage_with_names_from_other_subgraphs(
    world: World,
) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    seen: list[str] = []
    async with asyncio.timeout(30):
        async with ws_client(world, world.alice) as session:
            async for event in session.subscribe(request(ORDER_UPDATED, {"id": order_id})):
                order = event["orderUpdated"]
                assert order["id"] == order_id
                assert order["customer"]["name"] == "Alice"  # users, through the plan
                assert order["store"]["name"]  # geo
                assert [s["stage"] for s in order["stages"]][-1] == order["status"]
                if not seen or seen[-1] != order["status"]:
                    seen.append(order["status"])
                if order["status"] != "PICKED_UP":
                    await world.staff.data(ADVANCE, {"id": order_id})
            # The iteration ended by itself: the router completed the stream at PICKED_UP.
    assert seen == CARRYOUT_PATH


async def test_the_stream_completes_when_the_order_is_cancelled_over_multipart(
    world: World,
) -> None:
    order_id = await world.place_order(world.alice, "DELIVERY")
    statuses: list[str] = []
    async with asyncio.timeout(30):
        async with multipart(world, world.alice, ORDER_UPDATED, {"id": order_id}) as (
            response,
            parts,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("multipart/mixed")
            async for part in parts:
                if part == {}:
                    continue  # heartbeat
                statuses.append(part["payload"]["data"]["orderUpdated"]["status"])
                if statuses == ["PLACED"]:
                    await world.alice.data(CANCEL, {"id": order_id})
    assert statuses == ["PLACED", "CANCELLED"]


async def test_another_customer_cannot_follow_the_order(world: World) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    async with asyncio.timeout(15), ws_client(world, world.bob) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(request(ORDER_UPDATED, {"id": order_id})):
                pytest.fail("Bob received Alice's order")
    assert refused.value.errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert "Alice" not in str(refused.value.errors)


async def test_an_anonymous_client_cannot_follow_an_order(world: World) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    async with asyncio.timeout(15), ws_client(world, None) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(request(ORDER_UPDATED, {"id": order_id})):
                pytest.fail("an anonymous client received an order")
    assert refused.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"
