"""Bad input on both transports: protocol-correct errors and close codes, never a crash.

Raw ``websockets`` clients send what ``gql`` never would; after each refusal a fresh
connection still works (the handler survived).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.subscriptions.conftest import World, multipart

SUBPROTOCOL = "graphql-transport-ws"
ORDER_UPDATED = "subscription($id: ID!) { orderUpdated(orderId: $id) { id status } }"


async def _open(world: World, *, init: dict[str, Any] | None = None) -> ClientConnection:
    ws = await connect(world.ws_url, subprotocols=[SUBPROTOCOL], open_timeout=10)  # type: ignore[list-item]
    await ws.send(orjson.dumps({"type": "connection_init", "payload": init or {}}).decode())
    assert orjson.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def _closed_with(ws: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    return ws.close_code


async def _send(ws: ClientConnection, message: Any) -> None:
    await ws.send(message if isinstance(message, str) else orjson.dumps(message).decode())


async def _still_serving(world: World) -> None:
    ws = await _open(world)
    await _send(ws, {"type": "ping"})
    assert orjson.loads(await ws.recv())["type"] == "pong"
    await ws.close()


def _subscribe(operation_id: str, query: str, variables: dict[str, Any] | None = None) -> dict:
    return {
        "id": operation_id,
        "type": "subscribe",
        "payload": {"query": query, "variables": variables or {}},
    }


async def test_malformed_json_closes_with_4400(world: World) -> None:
    ws = await _open(world)
    await _send(ws, "{not json")
    assert await _closed_with(ws) == 4400
    await _still_serving(world)


async def test_a_message_without_a_type_closes_with_4400(world: World) -> None:
    ws = await _open(world)
    await _send(ws, {"id": "1", "payload": {}})
    assert await _closed_with(ws) == 4400


async def test_an_unknown_message_type_closes_with_4400(world: World) -> None:
    ws = await _open(world)
    await _send(ws, {"type": "start", "id": "1", "payload": {}})  # the legacy protocol's
    assert await _closed_with(ws) == 4400


async def test_subscribe_before_connection_init_closes_with_4401(world: World) -> None:
    ws = await connect(world.ws_url, subprotocols=[SUBPROTOCOL])  # type: ignore[list-item]
    await _send(ws, _subscribe("1", ORDER_UPDATED, {"id": "x"}))
    assert await _closed_with(ws) == 4401


async def test_a_second_connection_init_closes_with_4429(world: World) -> None:
    ws = await _open(world)
    await _send(ws, {"type": "connection_init"})
    assert await _closed_with(ws) == 4429


async def test_a_bad_token_in_connection_init_closes_with_4403(world: World) -> None:
    ws = await connect(world.ws_url, subprotocols=[SUBPROTOCOL])  # type: ignore[list-item]
    await _send(ws, {"type": "connection_init", "payload": {"Authorization": "Bearer nope"}})
    assert await _closed_with(ws) == 4403


async def test_a_duplicate_operation_id_closes_with_4409(world: World) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    ws = await _open(world, init={"Authorization": f"Bearer {world.alice.token}"})
    await _send(ws, _subscribe("same", ORDER_UPDATED, {"id": order_id}))
    assert orjson.loads(await ws.recv())["type"] == "next"
    await _send(ws, _subscribe("same", ORDER_UPDATED, {"id": order_id}))
    assert await _closed_with(ws) == 4409


async def test_too_many_subscriptions_on_one_connection_close_with_4429(world: World) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    ws = await _open(world, init={"Authorization": f"Bearer {world.alice.token}"})
    for index in range(5):  # the stack allows 5
        await _send(ws, _subscribe(f"op{index}", ORDER_UPDATED, {"id": order_id}))
    await _send(ws, _subscribe("one-too-many", ORDER_UPDATED, {"id": order_id}))
    assert await _closed_with(ws) == 4429


async def test_a_socket_without_the_subprotocol_is_refused(world: World) -> None:
    ws = await connect(world.ws_url)
    assert await _closed_with(ws) == 4406


async def test_an_unknown_subscription_is_an_error_and_the_connection_lives_on(
    world: World,
) -> None:
    ws = await _open(world)
    await _send(ws, _subscribe("1", "subscription { pizzaTeleported { id } }"))
    message = orjson.loads(await ws.recv())
    assert message["type"] == "error" and message["id"] == "1"
    assert message["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    await _send(ws, {"type": "ping"})
    assert orjson.loads(await ws.recv())["type"] == "pong"
    await ws.close()


async def test_invalid_variables_are_an_error(world: World) -> None:
    ws = await _open(world)
    await _send(ws, _subscribe("1", ORDER_UPDATED, {"id": {"not": "an id"}}))
    message = orjson.loads(await ws.recv())
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "VALIDATION_INVALID_TYPE_VARIABLE"
    await ws.close()


async def test_a_subscribe_without_a_query_is_an_error(world: World) -> None:
    ws = await _open(world)
    await _send(ws, {"id": "1", "type": "subscribe", "payload": {"variables": {}}})
    message = orjson.loads(await ws.recv())
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "BAD_REQUEST"
    await ws.close()


async def test_a_query_over_the_socket_gets_one_result(world: World) -> None:
    ws = await _open(world)
    await _send(ws, _subscribe("q", "{ __typename }"))
    assert orjson.loads(await ws.recv()) == {
        "id": "q",
        "type": "next",
        "payload": {"data": {"__typename": "Query"}},
    }
    assert orjson.loads(await ws.recv()) == {"id": "q", "type": "complete"}
    await ws.close()


async def test_a_subscription_over_plain_post_is_a_bad_request(world: World) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            world.url, json={"query": ORDER_UPDATED, "variables": {"id": "x"}}
        )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "multipart" in error["message"]


async def test_invalid_variables_over_multipart_are_refused_before_streaming(
    world: World,
) -> None:
    async with multipart(world, world.alice, ORDER_UPDATED, {"id": 42.5}) as (response, _):
        body = orjson.loads(await response.aread())
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_INVALID_TYPE_VARIABLE"
