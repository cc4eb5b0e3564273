"""Distributed mode: subgraphs and router as processes, live updates through Redis pub/sub."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.e2e.conftest import RunningStack, distributed_stack  # noqa: F401 - the fixture
from tests.subscriptions.conftest import ADVANCE, make_world, request, ws_client

ORDER_UPDATED = """
subscription($id: ID!) { orderUpdated(orderId: $id) { status customer { name } } }
"""


@pytest.mark.postgres
@pytest.mark.redis
async def test_order_updates_travel_through_redis_to_the_router(
    distributed_stack: RunningStack,  # noqa: F811
) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        world = await make_world(client, distributed_stack.router_url)
        order_id = await world.place_order(world.alice, "CARRYOUT")
        statuses: list[str] = []
        async with asyncio.timeout(60), ws_client(world, world.alice) as session:
            async for event in session.subscribe(request(ORDER_UPDATED, {"id": order_id})):
                assert event["orderUpdated"]["customer"]["name"] == "Alice"
                statuses.append(event["orderUpdated"]["status"])
                if len(statuses) == 3:
                    break
                await world.staff.data(ADVANCE, {"id": order_id})
    assert statuses == ["PLACED", "PREP", "BAKE"]
