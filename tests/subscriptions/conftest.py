"""Subscriptions through the router of a real embedded stack, with real protocol clients.

``live_stack``: router + eight subgraphs in this process (one per module), heartbeats every
half second. ``world``: signed-in callers (two customers, downtown staff, a driver) and a
way to place a DELIVERY order. ``ws_client``/``multipart``: a ``gql`` client over
``graphql-transport-ws`` and a small reader of Apollo's multipart protocol (gql has no
multipart transport in the pinned version).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from shared import demo_ids
from shared.settings import SUBGRAPH_NAMES, Settings
from subgraphs.embedded import EmbeddedStack
from tests.auth.conftest import Caller, new_customer, sign_in
from tests.e2e.test_golden_path import MENU, find_variant, next_open_evening

PLACE = """
mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id status } } }
"""
ADVANCE = """
mutation($id: ID!) { advanceOrder(input: {orderId: $id}) { order { status } } }
"""
ADDRESS = {
    "line1": "1100 Congress Ave",
    "city": "Austin",
    "postcode": "78701",
    "location": {"lat": 30.2747, "lng": -97.7404},
}


@pytest.fixture(scope="module")
async def live_stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[EmbeddedStack]:
    stack = EmbeddedStack(
        settings=Settings(data_dir=tmp_path_factory.mktemp("live")),
        router_port=0,
        subgraph_ports=dict.fromkeys(SUBGRAPH_NAMES, 0),
    )
    await stack.start()
    options = stack.router_app.state.subscription_options  # type: ignore[attr-defined]
    options.heartbeat_seconds = 0.5
    options.ping_interval_seconds = 0.5
    options.max_operations_per_connection = 5
    try:
        yield stack
    finally:
        await stack.stop()


@dataclass
class World:
    url: str
    ws_url: str
    alice: Caller
    bob: Caller
    staff: Caller
    driver: Caller
    place_order: Callable[..., Awaitable[str]]


@pytest.fixture(scope="module")
async def world(live_stack: EmbeddedStack) -> AsyncIterator[World]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield await make_world(client, live_stack.router_url)


async def make_world(client: httpx.AsyncClient, url: str) -> World:
    """Callers signed in through the router at ``url`` and a way to place orders."""
    alice = await new_customer(client, url, "Alice")
    bob = await new_customer(client, url, "Bob")
    staff = await sign_in(client, url, "staff.downtown@pizza.example", demo_ids.DEMO_PASSWORD)
    driver = await sign_in(client, url, "ana.driver@pizza.example", demo_ids.DEMO_PASSWORD)
    menu = (await alice.data(MENU, {"storeId": demo_ids.STORE_DOWNTOWN}))["menu"]
    variant = find_variant(menu, "PEPPERONI-14-HT")
    store = {"id": demo_ids.STORE_DOWNTOWN, "timeZone": demo_ids.TIME_ZONE}
    scheduled_for = await next_open_evening(client, url, store)

    async def place_order(caller: Caller, service_method: str = "DELIVERY") -> str:
        order_input: dict[str, Any] = {
            "storeId": demo_ids.STORE_DOWNTOWN,
            "serviceMethod": service_method,
            "scheduledFor": scheduled_for,
            "lines": [{"variantId": variant["id"], "quantity": 1}],
            "paymentMethod": {"type": "CARD", "token": "tok_visa"},
            "idempotencyKey": uuid.uuid4().hex,
        }
        if service_method == "DELIVERY":
            order_input["deliveryAddress"] = ADDRESS
        placed = await caller.data(PLACE, {"input": order_input})
        return str(placed["placeOrder"]["order"]["id"])

    return World(
        url=url,
        ws_url=url.replace("http://", "ws://"),
        alice=alice,
        bob=bob,
        staff=staff,
        driver=driver,
        place_order=place_order,
    )


def request(query: str, variables: dict[str, Any] | None = None) -> GraphQLRequest:
    """A gql request with its variables."""
    return GraphQLRequest(query, variable_values=variables)


def ws_client(world: World, caller: Caller | None) -> Client:
    """A gql client speaking graphql-transport-ws to the router as ``caller``."""
    init = {"Authorization": f"Bearer {caller.token}"} if caller and caller.token else {}
    transport = WebsocketsTransport(
        url=world.ws_url,
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload=init,
        ping_interval=None,
        connect_timeout=10,
        close_timeout=2,
    )
    return Client(transport=transport, fetch_schema_from_transport=False)


@asynccontextmanager
async def multipart(
    world: World, caller: Caller | None, query: str, variables: dict[str, Any] | None = None
) -> AsyncIterator[tuple[httpx.Response, AsyncIterator[dict[str, Any]]]]:
    """POST a subscription with the multipart ``Accept``; yields the response and its parts."""
    headers = {
        "accept": 'multipart/mixed;subscriptionSpec="1.0", application/json',
        "content-type": "application/json",
    }
    if caller is not None and caller.token:
        headers["authorization"] = f"Bearer {caller.token}"
    body = {"query": query, "variables": variables or {}}
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream("POST", world.url, json=body, headers=headers) as response,
    ):
        yield response, _parts(response)


async def _parts(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    buffer = b""
    async for chunk in response.aiter_bytes():
        buffer += chunk
        while True:
            start = buffer.find(b"\r\n\r\n")
            if start < 0:
                break
            end = buffer.find(b"\r\n--graphql", start)
            if end < 0:
                break
            yield orjson.loads(buffer[start + 4 : end])
            buffer = buffer[end:]


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float = 10.0, interval: float = 0.05
) -> Any:
    """The first truthy result of ``check`` within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
