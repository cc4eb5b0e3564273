"""Lifecycle: heartbeats, disconnects free everything, the router resubscribes when a
subgraph restarts, and a stream ends when its token expires."""

from __future__ import annotations

import asyncio

import orjson
from websockets.asyncio.client import connect

from shared import live
from shared.auth import issue_access_token
from subgraphs.embedded import EmbeddedStack
from tests.subscriptions.conftest import ADVANCE, World, eventually, multipart, request, ws_client

ORDER_UPDATED = (
    "subscription($id: ID!) { orderUpdated(orderId: $id) { id status customer { name } } }"
)


def _listeners(order_id: str) -> int:
    return live.in_process_hub().subscriber_count(live.order_channel(order_id))


async def test_websocket_clients_get_pings(world: World) -> None:
    async with connect(world.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(orjson.dumps({"type": "connection_init"}).decode())
        assert orjson.loads(await ws.recv())["type"] == "connection_ack"
        async with asyncio.timeout(5):
            assert orjson.loads(await ws.recv()) == {"type": "ping"}


async def test_multipart_streams_send_heartbeats(world: World) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    heartbeats = 0
    async with (
        asyncio.timeout(10),
        multipart(world, world.alice, ORDER_UPDATED, {"id": order_id}) as (_, parts),
    ):
        async for part in parts:
            heartbeats += part == {}
            if heartbeats == 3:
                break


async def test_a_websocket_disconnect_frees_the_subgraph_subscription(world: World) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    async with asyncio.timeout(15):
        async with connect(world.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            init = {
                "type": "connection_init",
                "payload": {"Authorization": f"Bearer {world.alice.token}"},
            }
            await ws.send(orjson.dumps(init).decode())
            assert orjson.loads(await ws.recv())["type"] == "connection_ack"
            subscribe = {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": ORDER_UPDATED, "variables": {"id": order_id}},
            }
            await ws.send(orjson.dumps(subscribe).decode())
            assert orjson.loads(await ws.recv())["type"] == "next"
            assert _listeners(order_id) == 1
        # Gone without a "complete": the router closes its subgraph subscription anyway.
        await eventually(lambda: _async(_listeners(order_id) == 0))


async def test_a_complete_message_frees_the_subgraph_subscription(world: World) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    async with asyncio.timeout(15), ws_client(world, world.alice) as session:
        events = session.subscribe(request(ORDER_UPDATED, {"id": order_id}))
        await anext(events)
        assert _listeners(order_id) == 1
        await events.aclose()  # gql sends "complete"
        await eventually(lambda: _async(_listeners(order_id) == 0))


async def test_a_multipart_disconnect_frees_the_subgraph_subscription(world: World) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    async with asyncio.timeout(15):
        async with multipart(world, world.alice, ORDER_UPDATED, {"id": order_id}) as (_, parts):
            async for part in parts:
                if part != {}:
                    break
            assert _listeners(order_id) == 1
        await eventually(lambda: _async(_listeners(order_id) == 0))


async def test_the_router_resubscribes_when_the_subgraph_restarts(
    world: World, live_stack: EmbeddedStack
) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    statuses: list[str] = []
    async with asyncio.timeout(30), ws_client(world, world.alice) as session:
        async for event in session.subscribe(request(ORDER_UPDATED, {"id": order_id})):
            statuses.append(event["orderUpdated"]["status"])
            assert event["orderUpdated"]["customer"]["name"] == "Alice"
            if statuses == ["PLACED"]:
                await live_stack.restart_subgraph("orders")
                await eventually(lambda: _async(_listeners(order_id) == 1))
                await world.staff.data(ADVANCE, {"id": order_id})
            elif statuses == ["PLACED", "PREP"]:
                break
    # The client saw no error and no repeat: the resubscription's first event (the
    # unchanged current state) was not sent again.
    assert statuses == ["PLACED", "PREP"]


async def test_the_stream_ends_when_the_token_expires(
    world: World, live_stack: EmbeddedStack
) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    short = live_stack.settings.model_copy(update={"access_token_ttl_seconds": 2})
    token = issue_access_token(settings=short, user_id=str(world.alice.user_id), roles=["CUSTOMER"])
    async with (
        asyncio.timeout(15),
        connect(world.ws_url, subprotocols=["graphql-transport-ws"]) as ws,  # type: ignore[list-item]
    ):
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await ws.send(orjson.dumps(init).decode())
        assert orjson.loads(await ws.recv())["type"] == "connection_ack"
        subscribe = {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": ORDER_UPDATED, "variables": {"id": order_id}},
        }
        await ws.send(orjson.dumps(subscribe).decode())
        messages = []
        while not messages or messages[-1].get("type") != "error":
            message = orjson.loads(await ws.recv())
            if message["type"] != "ping":
                messages.append(message)
        assert messages[0]["type"] == "next"
        assert messages[-1]["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    await eventually(lambda: _async(_listeners(order_id) == 0))


async def _async(value: bool) -> bool:
    return value
