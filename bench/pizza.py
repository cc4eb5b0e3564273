"""Workload (b): the pizza golden-path read query over our own subgraphs.

The eight Strawberry subgraphs run in embedded mode (``python -m subgraphs.embedded``: SQLite
files in a temporary directory, in-process bus) in their own process. Through that stack's
own router, a customer registers, saves an address and places an order, exactly as the golden
path end-to-end test does (``tests/e2e/test_golden_path.py``, whose operations are reused);
then every gateway is driven with ``OrderReadBack`` (orders, users, menu, geo, payments and
delivery in one query) with the customer's token, against the same subgraphs.

Identity: subgraphs trust only the router's signed ``x-pizza-claims`` header (ADR 0007). Our
router gets the customer's ``Authorization: Bearer`` token and a ``router.yaml`` pointing at
users' JWKS, so every request is verified and its claims signed, as in production. The Node
gateways cannot do that, so the benchmark signs the same claims once
(``presigned_claims``, valid for an hour) and they forward that header as is: less work per
request for them than for ours.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt

from bench.load import Service, port_open, wait_until
from router.auth.claims import CLAIMS_HEADER, DEV_CLAIMS_SECRET, sign_claims
from shared.auth import AUDIENCE, ISSUER
from shared.settings import SUBGRAPH_NAMES
from tests.e2e.test_golden_path import (
    ADD_ADDRESS,
    GEOCODE,
    LOGIN,
    MENU,
    ORDER_READ_BACK,
    PLACE,
    REGISTER,
    STORES_NEAR,
    call,
    find_variant,
    next_open_evening,
)

ROOT = Path(__file__).resolve().parents[1]
SUPERGRAPH = ROOT / "schema" / "supergraph.graphql"
READ_QUERY = ORDER_READ_BACK
__all__ = ["CLAIMS_HEADER", "READ_QUERY", "place_order", "presigned_claims", "start_stack"]
DEFAULT_PIZZA_PORT = 4400  # the embedded router; subgraphs on the next eight ports


def start_stack(*, data_dir: Path, router_port: int, python: str, log_dir: Path) -> Service:
    """The embedded stack (router + eight subgraphs) in its own process, ready."""
    env = {
        "PIZZA_DATA_DIR": str(data_dir),
        "PIZZA_ROUTER_PORT": str(router_port),
        "PIZZA_SUBGRAPH_BASE_PORT": str(router_port + 1),
    }
    service = Service(
        "pizza-subgraphs", [python, "-m", "subgraphs.embedded"], cwd=ROOT, env=env, log_dir=log_dir
    )
    wait_until(
        lambda: port_open(router_port),
        timeout=120,
        what="starting the pizza stack",
        service=service,
    )
    return service


def router_yaml(router_port: int, directory: Path) -> Path:
    """Our router's configuration: tokens verified against users' JWKS (the stack's ports)."""
    users_port = router_port + 1 + SUBGRAPH_NAMES.index("users")
    path = directory / "pizza-router.yaml"
    path.write_text(
        "authentication:\n  router:\n    jwt:\n      jwks:\n"
        f"        - url: http://127.0.0.1:{users_port}/.well-known/jwks.json\n"
        f"          issuer: {ISSUER}\n          audiences: [{AUDIENCE}]\n",
        encoding="utf-8",
    )
    return path


def presigned_claims(token: str) -> str:
    """The ``x-pizza-claims`` value our router would send for ``token``, valid for an hour."""
    claims = jwt.decode(token, options={"verify_signature": False})
    secret = os.environ.get("PIZZA_ROUTER_CLAIMS_SECRET") or DEV_CLAIMS_SECRET
    return sign_claims(claims, secret=secret, ttl_seconds=3600)


def supergraph_for(router_port: int, directory: Path) -> tuple[Path, Path]:
    """``schema/supergraph.graphql`` with the subgraph URLs moved to the stack's ports.

    Two files: the supergraph as composed (for our router) and one for the Node gateways,
    whose ``@link``s to the ``authenticated``/``requiresScopes`` specs drop ``for: SECURITY``:
    ``@apollo/gateway`` refuses to load a supergraph with SECURITY features it does not
    implement. Those gateways then do not enforce the directives (the request is authenticated
    anyway, and the subgraphs check the token themselves); ours does.
    """
    base = router_port + 1
    assert len(SUBGRAPH_NAMES) == 8

    def move(match: re.Match[str]) -> str:
        return f"127.0.0.1:{base + int(match.group(1)) - 4001}"

    sdl = re.sub(r"127\.0\.0\.1:(400[1-8])", move, SUPERGRAPH.read_text(encoding="utf-8"))
    ours, node = directory / "pizza.graphql", directory / "pizza-node.graphql"
    ours.write_text(sdl, encoding="utf-8")
    node.write_text(sdl.replace(", for: SECURITY)", ")"), encoding="utf-8")
    return ours, node


async def _place_order(url: str) -> tuple[str, dict[str, Any]]:
    email = f"bench-{uuid.uuid4().hex[:8]}@example.com"
    async with httpx.AsyncClient(timeout=30) as client:
        credentials = {"email": email, "password": "margherita-42"}
        await call(client, url, REGISTER, {"input": {**credentials, "name": "Bench Customer"}})
        token = (await call(client, url, LOGIN, {"input": credentials}))["login"]["accessToken"]
        place = (await call(client, url, GEOCODE, {"q": "1100 Congress Avenue"}))["geocode"][0]
        address = {k: place[k] for k in ("line1", "city", "postcode", "location")}
        added = await call(client, url, ADD_ADDRESS, {"input": {"label": "Home", **address}}, token)
        location = added["addAddress"]["address"]["location"]
        stores = (await call(client, url, STORES_NEAR, {"location": location}))["storesNear"]
        store = next(s["store"] for s in stores if s["canServe"])
        menu = (await call(client, url, MENU, {"storeId": store["id"]}))["menu"]
        order_input = {
            "storeId": store["id"],
            "serviceMethod": "DELIVERY",
            "scheduledFor": await next_open_evening(client, url, store),
            "deliveryAddress": {**address, "location": location},
            "lines": [
                {"variantId": find_variant(menu, "PEPPERONI-14-HT")["id"], "quantity": 2},
                {"variantId": find_variant(menu, "GARLIC_KNOTS-8")["id"], "quantity": 1},
            ],
            "paymentMethod": {"type": "CARD", "token": "tok_visa"},
            "idempotencyKey": uuid.uuid4().hex,
        }
        placed = await call(client, url, PLACE, {"input": order_input}, token)
        order_id = placed["placeOrder"]["order"]["id"]
        variables = {"id": order_id}
        for _ in range(100):  # wait for the saga (payment, delivery) to settle
            order = (await call(client, url, READ_QUERY, variables, token))["order"]
            if (
                order["payment"]
                and order["payment"]["status"] == "AUTHORIZED"
                and order["delivery"]
            ):
                break
            await asyncio.sleep(0.1)
    return token, variables


def place_order(router_url: str) -> tuple[str, dict[str, Any]]:
    """Walk the golden path through the stack's router; the token and the read's variables."""
    return asyncio.run(_place_order(router_url))
