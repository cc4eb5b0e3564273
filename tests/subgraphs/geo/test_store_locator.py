"""storesNear, geocode and reverseGeocode through the geo subgraph's GraphQL."""

from __future__ import annotations

from shared import demo_ids
from subgraphs.geo.geocoding import GeocodeResult
from subgraphs.geo.geometry import Point
from tests.conftest import gql

STORES_NEAR = """
query($address: AddressInput, $location: GeoPointInput, $method: ServiceMethod!, $at: DateTime) {
  storesNear(address: $address, location: $location, serviceMethod: $method, at: $at) {
    store { id name } distanceMeters canServe isOpen waitTime { minMinutes maxMinutes }
  }
}"""
GEOCODE = "query($q: String!) { geocode(query: $q) { label line1 city postcode location { lat lng } confidence } }"
REVERSE = "query($p: GeoPointInput!) { reverseGeocode(location: $p) { label line1 postcode } }"

HOME = {"line1": "1100 Congress Ave", "city": "Austin", "postcode": "78701"}
MONDAY_NOON = "2026-01-05T18:00:00Z"
NORTHWEST = {"lat": 30.35, "lng": -97.75}  # Allandale: no zone reaches it
ROUND_ROCK = {"lat": 30.5083, "lng": -97.6789}  # 30-40 km by road from every store
DALLAS = {"lat": 32.7767, "lng": -96.797}


async def near(geo, **variables) -> dict:
    variables.setdefault("method", "DELIVERY")
    return await gql(geo, STORES_NEAR, variables)


async def test_stores_near_home_are_nearest_first_and_only_zones_covering_it_serve(
    start_subgraph,
) -> None:
    geo = await start_subgraph("geo")
    body = await near(geo, address=HOME, at=MONDAY_NOON)
    answers = body["data"]["storesNear"]
    assert [a["store"]["name"] for a in answers] == [
        "Downtown",
        "East Austin",
        "Hyde Park",
        "South Lamar",
    ]
    assert [a["canServe"] for a in answers] == [True, True, False, False]
    distances = [a["distanceMeters"] for a in answers]
    assert distances == sorted(distances)
    assert 1000 < distances[0] < 1300  # ~870 m straight, times the 1.3 road factor
    assert answers[0]["store"]["id"] == demo_ids.STORE_DOWNTOWN
    assert all(a["isOpen"] for a in answers)
    assert answers[0]["waitTime"] == {"minMinutes": 25, "maxMinutes": 40}


async def test_stores_near_a_south_lamar_address_puts_that_store_first(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await near(geo, address={"line1": "2000 Kinney Avenue", "city": "austin"})
    first = body["data"]["storesNear"][0]
    assert (first["store"]["name"], first["canServe"]) == ("South Lamar", True)
    others = body["data"]["storesNear"][1:]
    assert not any(a["canServe"] for a in others)


async def test_carryout_serves_where_no_delivery_zone_reaches(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    delivery = (await near(geo, location=NORTHWEST))["data"]["storesNear"]
    carryout = (await near(geo, location=NORTHWEST, method="CARRYOUT"))["data"]["storesNear"]
    assert len(delivery) == len(carryout) == 4
    assert not any(a["canServe"] for a in delivery)
    assert all(a["canServe"] for a in carryout)
    assert carryout[0]["store"]["name"] == "Hyde Park"
    assert carryout[0]["waitTime"] == {"minMinutes": 10, "maxMinutes": 20}


async def test_carryout_beyond_25_km_is_listed_but_cannot_serve(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    answers = (await near(geo, location=ROUND_ROCK, method="CARRYOUT"))["data"]["storesNear"]
    assert answers and all(25_000 < a["distanceMeters"] <= 50_000 for a in answers)
    assert not any(a["canServe"] for a in answers)


async def test_no_store_is_listed_far_from_the_city(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    assert (await near(geo, location=DALLAS, method="CARRYOUT"))["data"]["storesNear"] == []


async def test_open_state_follows_the_moment_asked(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await near(geo, address=HOME, at="2026-01-05T16:00:00Z")  # 10:00 in Austin
    assert not any(a["isOpen"] for a in body["data"]["storesNear"])


async def test_exactly_one_of_address_and_location_is_required(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    neither = await near(geo)
    both = await near(geo, address=HOME, location=NORTHWEST)
    for body in (neither, both):
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_unknown_address_is_address_not_found(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await near(geo, address={"line1": "1 Nowhere Rd", "city": "Austin"})
    assert body["errors"][0]["extensions"] == {"code": "ADDRESS_NOT_FOUND", "field": "address"}


async def test_blank_street_is_bad_input_on_that_field(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await near(geo, address={"line1": " ", "city": "Austin"})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "address.line1"}


async def test_impossible_coordinates_are_invalid_location(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await near(geo, location={"lat": 130, "lng": -97.7})
    assert body["errors"][0]["extensions"] == {"code": "INVALID_LOCATION", "field": "location"}


async def test_geocode_returns_the_matching_address(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await gql(geo, GEOCODE, {"q": "1100 congress avenue, austin tx"})
    assert body["data"]["geocode"] == [
        {
            "label": "1100 Congress Ave, Austin, TX 78701",
            "line1": "1100 Congress Ave",
            "city": "Austin",
            "postcode": "78701",
            "location": {"lat": 30.2747, "lng": -97.7404},
            "confidence": 1.0,
        }
    ]


async def test_geocode_of_an_empty_query_is_bad_input(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await gql(geo, GEOCODE, {"q": "   "})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "query"}


async def test_reverse_geocode_finds_the_nearest_address_or_nothing(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    body = await gql(geo, REVERSE, {"p": {"lat": 30.26201, "lng": -97.72001}})
    assert body["data"]["reverseGeocode"]["label"] == "1900 E 7th St, Austin, TX 78702"
    assert (await gql(geo, REVERSE, {"p": DALLAS}))["data"]["reverseGeocode"] is None


class EverywhereIsHome:
    """A provider that resolves every query to the demo home (stands in for a real service)."""

    async def geocode(self, query: str) -> list[GeocodeResult]:
        return [GeocodeResult("Home", "Home", "Austin", "78701", Point(30.2747, -97.7404), 1.0)]

    async def reverse(self, point: Point) -> GeocodeResult | None:
        return None


async def test_locator_uses_the_configured_geocoding_provider(start_subgraph) -> None:
    geo = await start_subgraph("geo")
    geo.runtime.extras["geocoder"] = EverywhereIsHome()
    body = await near(geo, address={"line1": "Anything at all", "city": "Anywhere"})
    assert body["data"]["storesNear"][0]["store"]["name"] == "Downtown"
