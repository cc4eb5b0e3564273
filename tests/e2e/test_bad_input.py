"""Bad input through the router: clear errors with ``extensions.code``, spec HTTP statuses,
no stack traces, and no state changed (embedded stack, real HTTP)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from shared import demo_ids
from tests.e2e.conftest import RunningStack

GRAPHQL_RESPONSE = "application/graphql-response+json"
LOGIN = 'mutation { login(input: {email: "customer@pizza.example", password: "pizza-demo-1"}) { accessToken } }'
ADDRESSES = "{ me { addresses { id } } }"
ADD_ADDRESS = """
mutation($input: AddAddressInput!) { addAddress(input: $input) { address { id } } }
"""
ORDER = "query($id: ID!) { order(id: $id) { id number } }"
STORE = "query($id: ID!) { store(id: $id) { name } }"


@pytest.fixture
async def router(shared_embedded_stack: RunningStack) -> Any:
    base = shared_embedded_stack.router_url.removesuffix("/graphql")
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        yield client


def assert_clean(body: dict[str, Any]) -> None:
    """Every error has a message and a code, and nothing leaks internals."""
    assert body["errors"], body
    for error in body["errors"]:
        assert error["message"]
        assert error["extensions"]["code"].isupper()
        text = str(error)
        assert "Traceback" not in text and 'File "' not in text and "SELECT" not in text


async def customer_token(router: httpx.AsyncClient) -> str:
    body = (await router.post("/graphql", json={"query": LOGIN})).json()
    return body["data"]["login"]["accessToken"]


async def test_malformed_json_is_a_400_bad_request(router: httpx.AsyncClient) -> None:
    response = await router.post(
        "/graphql", content=b'{"query": "{ me { id }', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    body = response.json()
    assert_clean(body)
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_unknown_field_fails_validation_with_its_name(router: httpx.AsyncClient) -> None:
    response = await router.post("/graphql", json={"query": "{ me { id shoeSize } }"})
    assert response.status_code == 200  # application/json: GraphQL errors travel with 200
    body = response.json()
    assert_clean(body)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "shoeSize" in body["errors"][0]["message"]
    assert "data" not in body

    strict = await router.post(
        "/graphql", json={"query": "{ me { id shoeSize } }"}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert strict.status_code == 400
    assert strict.headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_wrong_variable_type_is_refused_before_any_subgraph(
    router: httpx.AsyncClient,
) -> None:
    response = await router.post(
        "/graphql",
        json={"query": ADD_ADDRESS, "variables": {"input": {"label": 42, "line1": "x"}}},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    body = response.json()
    assert_clean(body)
    assert body["errors"][0]["extensions"]["code"] in {
        "BAD_USER_INPUT",
        "VALIDATION_INVALID_TYPE_VARIABLE",
    }
    assert "input" in body["errors"][0]["message"]


async def test_unknown_id_gives_null_not_a_crash(router: httpx.AsyncClient) -> None:
    token = await customer_token(router)
    store = (
        await router.post("/graphql", json={"query": STORE, "variables": {"id": "sto_nope"}})
    ).json()
    assert store == {"data": {"store": None}}
    order = (
        await router.post(
            "/graphql",
            json={"query": ORDER, "variables": {"id": "ord_nope"}},
            headers={"authorization": f"Bearer {token}"},
        )
    ).json()
    assert order["data"]["order"] is None
    if "errors" in order:
        assert_clean(order)
        assert order["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_missing_token_is_unauthenticated_and_changes_nothing(
    router: httpx.AsyncClient,
) -> None:
    address = {"label": "Sneaky", "line1": "1 Main St", "city": "Austin", "postcode": "78701"}
    response = await router.post(
        "/graphql", json={"query": ADD_ADDRESS, "variables": {"input": address}}
    )
    assert response.status_code == 200
    body = response.json()
    assert_clean(body)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["path"] == ["addAddress"]
    token = await customer_token(router)
    mine = (
        await router.post(
            "/graphql", json={"query": ADDRESSES}, headers={"authorization": f"Bearer {token}"}
        )
    ).json()
    assert [a["id"] for a in mine["data"]["me"]["addresses"]] == ["adr_demo_home"]


async def test_forged_token_is_unauthenticated(router: httpx.AsyncClient) -> None:
    forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."
    body = (
        await router.post(
            "/graphql", json={"query": ADDRESSES}, headers={"authorization": f"Bearer {forged}"}
        )
    ).json()
    assert_clean(body)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_invalid_place_order_changes_nothing(router: httpx.AsyncClient) -> None:
    token = await customer_token(router)
    headers = {"authorization": f"Bearer {token}"}
    place = """
    mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } } }
    """
    order_input = {
        "storeId": demo_ids.STORE_DOWNTOWN,
        "serviceMethod": "DELIVERY",
        "lines": [],
        "deliveryAddress": {
            "line1": "1100 Congress Ave",
            "city": "Austin",
            "postcode": "78701",
            "location": {"lat": 30.2747, "lng": -97.7404},
        },
        "paymentMethod": {"type": "CARD", "token": "tok_visa"},
        "idempotencyKey": uuid.uuid4().hex,
    }

    async def order_count() -> int:
        mine = (
            await router.post(
                "/graphql",
                json={"query": "{ me { orders(first: 5) { totalCount } } }"},
                headers=headers,
            )
        ).json()
        return int(mine["data"]["me"]["orders"]["totalCount"])

    before = await order_count()  # the demo customer's past orders
    body = (
        await router.post(
            "/graphql", json={"query": place, "variables": {"input": order_input}}, headers=headers
        )
    ).json()
    assert_clean(body)
    assert body["errors"][0]["extensions"]["code"] == "EMPTY_ORDER"
    assert await order_count() == before


async def test_query_plan_is_exposed_on_request(router: httpx.AsyncClient) -> None:
    query = "{ stores { name menu { storeId } } }"
    plain = (await router.post("/graphql", json={"query": query})).json()
    assert "extensions" not in plain
    shown = (
        await router.post(
            "/graphql", json={"query": query}, headers={"apollo-expose-query-plan": "true"}
        )
    ).json()
    text = shown["extensions"]["apolloQueryPlan"]["text"]
    assert shown["data"] == plain["data"]
    assert (
        'Fetch(service: "geo")' in text
        and 'Flatten(path: "stores.@")' in text
        and 'service: "menu"' in text
    )
