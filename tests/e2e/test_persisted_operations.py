"""The embedded router serves the committed persisted operations by id (what partners send)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from shared import demo_ids
from tests.e2e.conftest import RunningStack

MANIFEST = Path(__file__).resolve().parents[2] / "schema" / "persisted-queries.json"


async def test_menu_by_persisted_id(shared_embedded_stack: RunningStack) -> None:
    operations = {op["name"]: op for op in json.loads(MANIFEST.read_text())["operations"]}
    menu = operations["Menu"]
    body = {
        "variables": {"storeId": demo_ids.STORE_DOWNTOWN},
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": menu["id"]}},
    }
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(shared_embedded_stack.router_url, json=body)
        unknown = await client.post(
            shared_embedded_stack.router_url,
            json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}},
        )
    data = response.json()["data"]
    assert "Pizza" in [c["name"] for c in data["menu"]["categories"]]
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
