"""deliveryQuote: the service-to-service answer orders prices and validates with."""

from __future__ import annotations

from shared import demo_ids
from shared.db import utcnow
from tests.conftest import gql

QUOTE = """
query($store: ID!, $method: ServiceMethod!, $location: GeoPointInput, $at: DateTime) {
  deliveryQuote(storeId: $store, serviceMethod: $method, location: $location, at: $at) {
    storeId canServe reasonCode reason isOpen closedReason distanceMeters
    deliveryFee { amount currency } minimumOrder { amount currency }
    taxRateBasisPoints waitTime { minMinutes maxMinutes } timeZone
  }
}"""
HOME = {"lat": 30.2747, "lng": -97.7404}
KINNEY_AVE = {"lat": 30.2488, "lng": -97.7693}  # inside South Lamar's zone only
MONDAY_NOON = "2026-01-05T18:00:00Z"


async def quote(geo, **variables) -> dict:
    variables.setdefault("store", demo_ids.STORE_DOWNTOWN)
    variables.setdefault("method", "DELIVERY")
    variables.setdefault("at", MONDAY_NOON)
    return await gql(geo, QUOTE, variables)


async def test_delivery_inside_the_zone_is_quoted_with_fee_minimum_and_tax(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await quote(geo, location=HOME)
    assert body["data"]["deliveryQuote"] == {
        "storeId": demo_ids.STORE_DOWNTOWN,
        "canServe": True,
        "reasonCode": None,
        "reason": None,
        "isOpen": True,
        "closedReason": None,
        "distanceMeters": body["data"]["deliveryQuote"]["distanceMeters"],
        "deliveryFee": {"amount": 399, "currency": "USD"},
        "minimumOrder": {"amount": 1000, "currency": "USD"},
        "taxRateBasisPoints": 825,
        "waitTime": {"minMinutes": 25, "maxMinutes": 40},
        "timeZone": "America/Chicago",
    }
    assert 1000 < body["data"]["deliveryQuote"]["distanceMeters"] < 1300


async def test_out_of_zone_is_an_answer_not_an_error(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await quote(geo, location=KINNEY_AVE)
    assert "errors" not in body
    answer = body["data"]["deliveryQuote"]
    assert (answer["canServe"], answer["reasonCode"]) == (False, "OUT_OF_ZONE")
    assert "delivery area" in answer["reason"]
    lamar = await quote(geo, store=demo_ids.STORE_SOUTH_LAMAR, location=KINNEY_AVE)
    assert lamar["data"]["deliveryQuote"]["canServe"] is True


async def test_delivery_without_a_location_cannot_be_served(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    answer = (await quote(geo))["data"]["deliveryQuote"]
    assert (answer["canServe"], answer["reasonCode"]) == (False, "LOCATION_REQUIRED")


async def test_carryout_has_no_fee_and_no_minimum(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    answer = (await quote(geo, method="CARRYOUT"))["data"]["deliveryQuote"]
    assert answer["canServe"] is True and answer["distanceMeters"] is None
    assert answer["deliveryFee"] == {"amount": 0, "currency": "USD"}
    assert answer["minimumOrder"] == {"amount": 0, "currency": "USD"}
    assert answer["waitTime"] == {"minMinutes": 10, "maxMinutes": 20}


async def test_quote_says_why_the_store_is_closed(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    early = (await quote(geo, location=HOME, at="2026-01-05T15:00:00Z"))["data"]["deliveryQuote"]
    assert (early["isOpen"], early["closedReason"]) == (False, "OUTSIDE_HOURS")
    christmas = f"{utcnow().year}-12-25T18:00:00Z"
    holiday = (await quote(geo, location=HOME, at=christmas))["data"]["deliveryQuote"]
    assert (holiday["isOpen"], holiday["closedReason"]) == (False, "HOLIDAY")
    assert holiday["canServe"] is True


async def test_unknown_store_is_not_found(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await quote(geo, store="sto_missing", location=HOME)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_impossible_location_is_invalid(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await quote(geo, location={"lat": 30.27, "lng": 197.0})
    assert body["errors"][0]["extensions"] == {"code": "INVALID_LOCATION", "field": "location"}
