"""updateStoreSettings: who may change a store, validation, and no partial changes."""

from __future__ import annotations

from shared import demo_ids
from tests.conftest import bearer, gql

UPDATE = """
mutation($input: UpdateStoreSettingsInput!) {
  updateStoreSettings(input: $input) {
    store {
      id forceClosed isOpen(at: "2026-01-05T18:00:00Z")
      waitTime { minMinutes maxMinutes } carryout: waitTime(serviceMethod: CARRYOUT) { minMinutes maxMinutes }
      deliveryFee { amount currency } minimumDeliveryOrder { amount currency }
    }
  }
}"""
STORE = """
query($id: ID!) {
  store(id: $id) { forceClosed deliveryFee { amount } minimumDeliveryOrder { amount } waitTime { minMinutes } }
}"""
QUOTE = """
query($id: ID!) {
  deliveryQuote(storeId: $id, serviceMethod: CARRYOUT, at: "2026-01-05T18:00:00Z") { isOpen closedReason }
}"""


def staff(settings, store_id: str = demo_ids.STORE_DOWNTOWN) -> dict[str, str]:
    return bearer(settings, demo_ids.STAFF_DOWNTOWN, "STAFF", store_id=store_id)


def admin(settings) -> dict[str, str]:
    return bearer(settings, demo_ids.ADMIN_USER, "ADMIN")


async def update(geo, headers: dict[str, str] | None, **fields) -> dict:
    fields.setdefault("storeId", demo_ids.STORE_DOWNTOWN)
    return await gql(geo, UPDATE, {"input": fields}, headers=headers or {})


async def test_staff_force_closes_their_store_and_quotes_follow(start_subgraph, settings) -> None:
    geo = await start_subgraph("geo")
    body = await update(
        geo, staff(settings), forceClosed=True, deliveryWait={"minMinutes": 45, "maxMinutes": 70}
    )
    store = body["data"]["updateStoreSettings"]["store"]
    assert store["forceClosed"] is True and store["isOpen"] is False
    assert store["waitTime"] == {"minMinutes": 45, "maxMinutes": 70}
    assert store["carryout"] == {"minMinutes": 10, "maxMinutes": 20}
    quote = await gql(geo, QUOTE, {"id": demo_ids.STORE_DOWNTOWN})
    assert quote["data"]["deliveryQuote"] == {"isOpen": False, "closedReason": "FORCE_CLOSED"}
    reopened = await update(geo, staff(settings), forceClosed=False)
    assert reopened["data"]["updateStoreSettings"]["store"]["isOpen"] is True


async def test_admin_changes_fee_and_minimum_of_any_store(start_subgraph, settings) -> None:
    geo = await start_subgraph("geo")
    body = await update(
        geo,
        admin(settings),
        storeId=demo_ids.STORE_EAST,
        deliveryFee={"amount": 499, "currency": "usd"},
        minimumDeliveryOrder={"amount": 1500, "currency": "USD"},
    )
    store = body["data"]["updateStoreSettings"]["store"]
    assert store["deliveryFee"] == {"amount": 499, "currency": "USD"}
    assert store["minimumDeliveryOrder"] == {"amount": 1500, "currency": "USD"}
    stored = await gql(geo, STORE, {"id": demo_ids.STORE_EAST})
    assert stored["data"]["store"]["deliveryFee"] == {"amount": 499}


async def test_anonymous_callers_must_sign_in(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await update(geo, None, forceClosed=True)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_customers_may_not_change_stores(start_subgraph, settings) -> None:
    geo = await start_subgraph("geo")
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    body = await update(geo, customer, forceClosed=True)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_staff_may_not_change_another_store(start_subgraph, settings) -> None:
    geo = await start_subgraph("geo")
    body = await update(geo, staff(settings), storeId=demo_ids.STORE_SOUTH_LAMAR, forceClosed=True)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    stored = await gql(geo, STORE, {"id": demo_ids.STORE_SOUTH_LAMAR})
    assert stored["data"]["store"]["forceClosed"] is False


async def test_negative_fee_is_refused_and_nothing_changes(start_subgraph, settings) -> None:
    geo = await start_subgraph("geo")
    body = await update(
        geo, admin(settings), forceClosed=True, deliveryFee={"amount": -1, "currency": "USD"}
    )
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {
        "code": "INVALID_AMOUNT",
        "field": "deliveryFee.amount",
    }
    stored = (await gql(geo, STORE, {"id": demo_ids.STORE_DOWNTOWN}))["data"]["store"]
    assert stored["forceClosed"] is False and stored["deliveryFee"] == {"amount": 399}


async def test_negative_minimum_order_names_its_field(start_subgraph, settings) -> None:
    geo = await start_subgraph("geo")
    body = await update(
        geo, admin(settings), minimumDeliveryOrder={"amount": -500, "currency": "USD"}
    )
    assert body["errors"][0]["extensions"] == {
        "code": "INVALID_AMOUNT",
        "field": "minimumDeliveryOrder.amount",
    }


async def test_fee_in_another_currency_is_refused(start_subgraph, settings) -> None:
    geo = await start_subgraph("geo")
    body = await update(geo, admin(settings), deliveryFee={"amount": 300, "currency": "EUR"})
    assert body["errors"][0]["extensions"] == {
        "code": "INVALID_CURRENCY",
        "field": "deliveryFee.currency",
    }


async def test_wait_range_must_be_ordered_and_bounded(start_subgraph, settings) -> None:
    geo = await start_subgraph("geo")
    inverted = await update(geo, admin(settings), carryoutWait={"minMinutes": 30, "maxMinutes": 20})
    assert inverted["errors"][0]["extensions"] == {
        "code": "INVALID_WAIT_RANGE",
        "field": "carryoutWait.maxMinutes",
    }
    negative = await update(geo, admin(settings), deliveryWait={"minMinutes": -5, "maxMinutes": 20})
    assert negative["errors"][0]["extensions"]["field"] == "deliveryWait.minMinutes"


async def test_an_empty_change_is_bad_input(start_subgraph, settings) -> None:
    geo = await start_subgraph("geo")
    body = await update(geo, admin(settings))
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "input"}


async def test_unknown_store_is_not_found_for_admins(start_subgraph, settings) -> None:
    geo = await start_subgraph("geo")
    body = await update(geo, admin(settings), storeId="sto_missing", forceClosed=True)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
