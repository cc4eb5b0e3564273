"""Graceful degradation: while menu is down the router serves the last good menu, flagged."""

from __future__ import annotations

import asyncio

import httpx

from shared import demo_ids
from shared.settings import SUBGRAPH_NAMES, Settings
from subgraphs.embedded import EmbeddedStack

MENU = "query($s: ID!) { menu(storeId: $s) { categories { name } } }"


async def test_menu_is_served_stale_while_the_menu_subgraph_is_down(tmp_path) -> None:
    stack = EmbeddedStack(
        settings=Settings(data_dir=tmp_path),
        router_port=0,
        subgraph_ports=dict.fromkeys(SUBGRAPH_NAMES, 0),
    )
    await stack.start()
    try:
        body = {"query": MENU, "variables": {"s": demo_ids.STORE_DOWNTOWN}}
        async with httpx.AsyncClient(timeout=30) as client:
            fresh = (await client.post(stack.router_url, json=body)).json()
            assert "errors" not in fresh
            outage = asyncio.create_task(stack.restart_subgraph("menu", downtime=2.0))
            await asyncio.sleep(0.5)
            stale = (await client.post(stack.router_url, json=body)).json()
            await outage
            after = (await client.post(stack.router_url, json=body)).json()
        assert stale["data"] == fresh["data"]
        assert [e["extensions"]["code"] for e in stale["errors"]] == ["STALE_DATA"]
        assert "errors" not in after
    finally:
        await stack.stop()
