"""The edge on WebSockets: origins CORS does not allow are refused, rate limits count upgrades
and each operation started on a connection."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.edge.conftest import RouterFactory

SUBPROTOCOLS: Any = ["graphql-transport-ws"]
ME = "{ me { name } }"
CORS = {
    "cors": {
        "origins": ["https://shop.pizza.example"],
        "match_origins": [r"https://.*\.partner\.example"],
    }
}


def _ws_url(router: Any) -> str:
    return router.url.replace("http://", "ws://")


async def _acknowledged(url: str, **kwargs: Any) -> ClientConnection:
    ws = await connect(url, subprotocols=SUBPROTOCOLS, **kwargs)
    await ws.send(orjson.dumps({"type": "connection_init"}).decode())
    assert orjson.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def _run(ws: ClientConnection, operation_id: str) -> dict[str, Any]:
    """Send ``ME`` as operation ``operation_id``; its first answer (``next`` or ``error``)."""
    subscribe = {"id": operation_id, "type": "subscribe", "payload": {"query": ME}}
    await ws.send(orjson.dumps(subscribe).decode())
    while True:
        message = orjson.loads(await ws.recv())
        if message.get("id") == operation_id and message["type"] in ("next", "error"):
            return message


@pytest.mark.parametrize(
    "origin", ["https://shop.pizza.example", "https://kiosk.partner.example", None]
)
async def test_allowed_origins_and_non_browsers_may_connect(
    edge_router: RouterFactory, origin: str | None
) -> None:
    router = edge_router(**CORS)
    headers = {"origin": origin} if origin else {}
    async with asyncio.timeout(10):
        ws = await _acknowledged(_ws_url(router), additional_headers=headers)
        await ws.close()


async def test_the_routers_own_origin_may_connect(edge_router: RouterFactory) -> None:
    router = edge_router(**CORS)
    origin = router.url.removesuffix("/graphql")  # the explorer the router serves
    async with asyncio.timeout(10):
        ws = await _acknowledged(_ws_url(router), additional_headers={"origin": origin})
        await ws.close()


@pytest.mark.parametrize("origin", ["https://evil.example", "https://partner.example.evil"])
async def test_other_origins_are_refused_before_the_upgrade(
    edge_router: RouterFactory, origin: str
) -> None:
    router = edge_router(**CORS)
    async with asyncio.timeout(10):
        with pytest.raises(InvalidStatus) as refused:
            await connect(
                _ws_url(router), subprotocols=SUBPROTOCOLS, additional_headers={"origin": origin}
            )
    assert refused.value.response.status_code == 403
    assert b"FORBIDDEN" in refused.value.response.body


async def test_upgrades_count_against_the_ip_limit(edge_router: RouterFactory) -> None:
    limits = {"ip_rate_limit": {"capacity": 2, "interval": "1h"}}
    router = edge_router(traffic_shaping={"router": limits})
    async with asyncio.timeout(10):
        for _ in range(2):
            await (await _acknowledged(_ws_url(router))).close()
        with pytest.raises(InvalidStatus) as refused:
            await connect(_ws_url(router), subprotocols=SUBPROTOCOLS)
    assert refused.value.response.status_code == 429
    assert int(refused.value.response.headers["retry-after"]) >= 1


async def test_each_operation_counts_and_a_limited_one_fails_alone(
    edge_router: RouterFactory,
) -> None:
    limits = {"ip_rate_limit": {"capacity": 3, "interval": "1h"}}
    router = edge_router(traffic_shaping={"router": limits})
    async with asyncio.timeout(10):
        ws = await _acknowledged(_ws_url(router))  # the upgrade takes one token
        assert (await _run(ws, "1"))["type"] == "next"
        assert (await _run(ws, "2"))["type"] == "next"
        limited = await _run(ws, "3")
        assert limited["type"] == "error"
        assert limited["payload"][0]["extensions"]["code"] == "REQUEST_RATE_LIMITED"
        await ws.send(orjson.dumps({"type": "ping"}).decode())  # the connection still serves
        assert orjson.loads(await ws.recv())["type"] == "pong"
        await ws.close()
