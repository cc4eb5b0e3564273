"""The Store entity: store, stores, _entities and the fields other subgraphs rely on."""

from __future__ import annotations

from shared import demo_ids
from shared.db import utcnow
from tests.conftest import gql

STORE = """
query($id: ID!, $at: DateTime) {
  store(id: $id) {
    id name phone timeZone taxRateBasisPoints tippingAllowed forceClosed acceptedPaymentMethods
    address { line1 city postcode } location { lat lng }
    minimumDeliveryOrder { amount currency } deliveryFee { amount currency }
    deliveryZone { kind radiusMeters polygon { lat lng } }
    openingHours(serviceMethod: DELIVERY) { serviceMethod weekday opens closes crossesMidnight }
    holidayClosures { date name }
    deliveryOpen: isOpen(at: $at) carryoutOpen: isOpen(serviceMethod: CARRYOUT, at: $at)
    waitTime { minMinutes maxMinutes } carryoutWait: waitTime(serviceMethod: CARRYOUT) { minMinutes }
  }
}"""
ENTITIES = """
query($r: [_Any!]!) { _entities(representations: $r) { ... on Store { id name timeZone } } }
"""
STORES = "{ stores { id name deliveryZone { kind } } }"


async def test_store_has_its_demo_settings(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await gql(geo, STORE, {"id": demo_ids.STORE_DOWNTOWN, "at": "2026-01-05T18:00:00Z"})
    store = body["data"]["store"]
    assert store["name"] == "Downtown"
    assert store["timeZone"] == "America/Chicago"
    assert store["taxRateBasisPoints"] == 825
    assert store["address"] == {"line1": "416 Congress Ave", "city": "Austin", "postcode": "78701"}
    assert store["location"] == {"lat": 30.2672, "lng": -97.7431}
    assert store["deliveryFee"] == {"amount": 399, "currency": "USD"}
    assert store["minimumDeliveryOrder"] == {"amount": 1000, "currency": "USD"}
    assert store["acceptedPaymentMethods"] == ["CARD", "CASH", "GIFT_CARD"]
    assert store["deliveryZone"]["kind"] == "POLYGON" and len(store["deliveryZone"]["polygon"]) >= 3
    assert store["deliveryOpen"] is True and store["carryoutOpen"] is True
    assert store["waitTime"] == {"minMinutes": 25, "maxMinutes": 40}
    assert store["carryoutWait"] == {"minMinutes": 10}


async def test_late_delivery_hours_cross_midnight_and_run_later_on_weekends(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await gql(geo, STORE, {"id": demo_ids.STORE_DOWNTOWN})
    hours = body["data"]["store"]["openingHours"]
    by_day = {h["weekday"]: (h["opens"], h["closes"], h["crossesMidnight"]) for h in hours}
    assert len(hours) == 7
    assert by_day["MONDAY"] == ("10:30:00", "01:00:00", True)
    assert by_day["SATURDAY"] == ("10:30:00", "02:00:00", True)


async def test_store_is_closed_on_christmas(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    christmas = f"{utcnow().year}-12-25T18:00:00Z"
    body = await gql(geo, STORE, {"id": demo_ids.STORE_EAST, "at": christmas})
    store = body["data"]["store"]
    assert {"date": f"{utcnow().year}-12-25", "name": "Christmas Day"} in store["holidayClosures"]
    assert store["deliveryOpen"] is False and store["carryoutOpen"] is False


async def test_stores_lists_the_four_demo_stores_by_name(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    stores = (await gql(geo, STORES))["data"]["stores"]
    assert [s["name"] for s in stores] == ["Downtown", "East Austin", "Hyde Park", "South Lamar"]
    assert {s["id"] for s in stores} == set(demo_ids.STORES)
    kinds = {s["name"]: s["deliveryZone"]["kind"] for s in stores}
    assert kinds == {
        "Downtown": "POLYGON",
        "South Lamar": "POLYGON",
        "Hyde Park": "RADIUS",
        "East Austin": "RADIUS",
    }


async def test_unknown_store_is_null(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await gql(geo, STORE, {"id": "sto_missing"})
    assert body == {"data": {"store": None}}


async def test_entities_resolve_stores_by_id_for_the_router(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await gql(
        geo,
        ENTITIES,
        {
            "r": [
                {"__typename": "Store", "id": demo_ids.STORE_HYDE_PARK},
                {"__typename": "Store", "id": "sto_missing"},
                {"__typename": "Store", "id": demo_ids.STORE_SOUTH_LAMAR},
            ]
        },
    )
    assert body["data"]["_entities"] == [
        {"id": demo_ids.STORE_HYDE_PARK, "name": "Hyde Park", "timeZone": "America/Chicago"},
        None,
        {"id": demo_ids.STORE_SOUTH_LAMAR, "name": "South Lamar", "timeZone": "America/Chicago"},
    ]


async def test_store_is_a_federation_entity_keyed_by_id(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    sdl = (await gql(geo, "{ _service { sdl } }"))["data"]["_service"]["sdl"]
    assert 'type Store @key(fields: "id")' in sdl
    assert "type WaitRange @shareable" in sdl
