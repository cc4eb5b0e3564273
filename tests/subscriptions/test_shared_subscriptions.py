"""Identical subscriptions share one subgraph subscription (router ``SubscriptionHub``).

Same operation, variables and caller: one subscription at the subgraph, every client gets
every event; a client joining a state stream gets its latest event at once; a news stream
(``myNotifications``) is never replayed; other callers get subscriptions of their own; the
subgraph subscription closes with its last client; the process-wide cap refuses more.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from gql.transport.exceptions import TransportQueryError

from router.subscriptions import SubscriptionHub
from shared import live
from subgraphs.embedded import EmbeddedStack
from tests.subscriptions.conftest import ADVANCE, World, eventually, request, ws_client

ORDER_UPDATED = "subscription($id: ID!) { orderUpdated(orderId: $id) { id status } }"
MY_NOTIFICATIONS = "subscription { myNotifications { id title orderId } }"


def _hub(stack: EmbeddedStack) -> SubscriptionHub:
    return stack.router_app.state.subscription_hub  # type: ignore[attr-defined,no-any-return]


def _order_listeners(order_id: str) -> int:
    return live.in_process_hub().subscriber_count(live.order_channel(order_id))


async def _follow(
    stack: AsyncExitStack, world: World, caller: Any, query: str, variables: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    session = await stack.enter_async_context(ws_client(world, caller))
    events = session.subscribe(request(query, variables))
    stack.push_async_callback(events.aclose)
    return events


async def _true(value: bool) -> bool:
    return value


async def test_identical_subscriptions_share_one_subgraph_subscription(world: World) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    async with asyncio.timeout(30), AsyncExitStack() as stack:
        first = await _follow(stack, world, world.alice, ORDER_UPDATED, {"id": order_id})
        second = await _follow(stack, world, world.alice, ORDER_UPDATED, {"id": order_id})
        assert (await anext(first))["orderUpdated"]["status"] == "PLACED"
        assert (await anext(second))["orderUpdated"]["status"] == "PLACED"
        assert _order_listeners(order_id) == 1
        await world.staff.data(ADVANCE, {"id": order_id})
        assert (await anext(first))["orderUpdated"]["status"] == "PREP"
        assert (await anext(second))["orderUpdated"]["status"] == "PREP"


async def test_a_client_joining_a_state_stream_gets_the_latest_state_at_once(
    world: World,
) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    async with asyncio.timeout(30), AsyncExitStack() as stack:
        first = await _follow(stack, world, world.alice, ORDER_UPDATED, {"id": order_id})
        assert (await anext(first))["orderUpdated"]["status"] == "PLACED"
        await world.staff.data(ADVANCE, {"id": order_id})
        assert (await anext(first))["orderUpdated"]["status"] == "PREP"
        late = await _follow(stack, world, world.alice, ORDER_UPDATED, {"id": order_id})
        assert (await anext(late))["orderUpdated"] == {"id": order_id, "status": "PREP"}
        assert _order_listeners(order_id) == 1


async def test_other_callers_get_subscriptions_of_their_own(world: World) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    async with asyncio.timeout(30), AsyncExitStack() as stack:
        customer = await _follow(stack, world, world.alice, ORDER_UPDATED, {"id": order_id})
        staff = await _follow(stack, world, world.staff, ORDER_UPDATED, {"id": order_id})
        await anext(customer)
        await anext(staff)
        assert _order_listeners(order_id) == 2
        # Bob's own subscription is refused by the subgraph, whoever else follows the order.
        with pytest.raises(TransportQueryError):
            bob = await _follow(stack, world, world.bob, ORDER_UPDATED, {"id": order_id})
            await anext(bob)


async def test_the_subgraph_subscription_closes_with_its_last_client(
    world: World, live_stack: EmbeddedStack
) -> None:
    order_id = await world.place_order(world.alice, "CARRYOUT")
    async with asyncio.timeout(30), AsyncExitStack() as outer:
        staying = await _follow(outer, world, world.alice, ORDER_UPDATED, {"id": order_id})
        await anext(staying)
        async with AsyncExitStack() as inner:
            leaving = await _follow(inner, world, world.alice, ORDER_UPDATED, {"id": order_id})
            await anext(leaving)
        await world.staff.data(ADVANCE, {"id": order_id})
        assert (await anext(staying))["orderUpdated"]["status"] == "PREP"
        assert _order_listeners(order_id) == 1
    await eventually(lambda: _true(_order_listeners(order_id) == 0))
    await eventually(lambda: _true(_hub(live_stack).opened == 0))


async def test_news_are_not_replayed_to_a_client_joining_later(world: World) -> None:
    async with asyncio.timeout(40), AsyncExitStack() as stack:
        first = await _follow(stack, world, world.alice, MY_NOTIFICATIONS, {})
        pending = asyncio.ensure_future(anext(first))
        channel = live.notifications_channel(world.alice.user_id)
        await eventually(lambda: _true(live.in_process_hub().subscriber_count(channel) == 1))
        order_id = await world.place_order(world.alice, "CARRYOUT")
        seen = {(await pending)["myNotifications"]["id"]}
        while True:  # the order's other notifications, if any
            try:
                async with asyncio.timeout(1.5):
                    seen.add((await anext(first))["myNotifications"]["id"])
            except TimeoutError:
                break
        late = await _follow(stack, world, world.alice, MY_NOTIFICATIONS, {})
        joined = asyncio.ensure_future(anext(late))
        await asyncio.sleep(0.5)  # a replay would arrive at once
        assert live.in_process_hub().subscriber_count(channel) == 1
        await world.staff.data(ADVANCE, {"id": order_id})  # a new stage: a new notification
        # Whatever reaches the late client is news to it: never what was sent before it joined.
        assert (await joined)["myNotifications"]["id"] not in seen


async def test_subscriptions_beyond_the_cap_are_refused(
    world: World, live_stack: EmbeddedStack
) -> None:
    hub = _hub(live_stack)
    order_id = await world.place_order(world.alice, "CARRYOUT")
    async with asyncio.timeout(30), AsyncExitStack() as stack:
        events = await _follow(stack, world, world.alice, ORDER_UPDATED, {"id": order_id})
        await anext(events)
        hub.options.max_opened_subscriptions = hub.opened
        try:
            with pytest.raises(TransportQueryError) as refused:
                more = await _follow(stack, world, world.alice, ORDER_UPDATED, {"id": order_id})
                await anext(more)
        finally:
            hub.options.max_opened_subscriptions = None
    assert refused.value.errors[0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
