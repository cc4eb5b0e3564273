"""The offline gazetteer: forgiving matching, interpolation, postcodes, reverse lookups."""

from __future__ import annotations

import pytest

from subgraphs.geo.geocoding import Gazetteer, GeocodingProvider, default_gazetteer
from subgraphs.geo.geometry import Point, haversine_meters

HOME = Point(30.2747, -97.7404)


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return default_gazetteer()


async def labels(gazetteer: Gazetteer, query: str) -> list[str]:
    return [r.label for r in await gazetteer.geocode(query)]


def test_gazetteer_is_a_geocoding_provider(gazetteer) -> None:
    provider: GeocodingProvider = gazetteer
    assert callable(provider.geocode) and callable(provider.reverse)


def test_gazetteer_covers_the_demo_neighbourhoods(gazetteer) -> None:
    assert gazetteer.address_count >= 60
    assert {"78701", "78702", "78704", "78751"} <= gazetteer.postcodes


async def test_exact_address_resolves_to_its_coordinates(gazetteer) -> None:
    [result] = await gazetteer.geocode("1100 Congress Ave, Austin, TX 78701")
    assert result.label == "1100 Congress Ave, Austin, TX 78701"
    assert (result.line1, result.postcode, result.confidence) == ("1100 Congress Ave", "78701", 1.0)
    assert haversine_meters(result.location, HOME) < 1


@pytest.mark.parametrize(
    "query",
    [
        "1100 congress avenue",
        "1100 CONGRESS AVE.",
        "1100 Congress Ave., Austin, Texas",
        "  1100   Congress  Avenue,78701 ",
    ],
)
async def test_case_punctuation_and_suffixes_do_not_matter(gazetteer, query) -> None:
    assert (await labels(gazetteer, query))[0] == "1100 Congress Ave, Austin, TX 78701"


async def test_spelled_out_direction_and_ordinal_match(gazetteer) -> None:
    assert await labels(gazetteer, "600 East Sixth Street") == ["600 E 6th St, Austin, TX 78701"]
    assert await labels(gazetteer, "1502 South Lamar Boulevard") == [
        "1502 S Lamar Blvd, Austin, TX 78704"
    ]


async def test_missing_direction_offers_both_sides_best_first(gazetteer) -> None:
    assert await labels(gazetteer, "600 6th St") == [
        "600 E 6th St, Austin, TX 78701",
        "600 W 6th St, Austin, TX 78701",
    ]


async def test_wrong_direction_never_matches(gazetteer) -> None:
    assert await labels(gazetteer, "1100 W Cesar Chavez St") == []


async def test_house_number_between_known_ones_is_interpolated(gazetteer) -> None:
    [result] = await gazetteer.geocode("650 Congress Ave")
    [six] = await gazetteer.geocode("600 Congress Ave")
    [seven] = await gazetteer.geocode("700 Congress Ave")
    assert result.line1 == "650 Congress Ave"
    assert result.location.lat == pytest.approx((six.location.lat + seven.location.lat) / 2)
    assert result.confidence < 1


async def test_small_typo_still_matches_with_lower_confidence(gazetteer) -> None:
    [result] = await gazetteer.geocode("1100 Congres Avenue")
    assert result.line1 == "1100 Congress Ave"
    assert 0.5 <= result.confidence < 1


async def test_postcode_alone_gives_its_area(gazetteer) -> None:
    [result] = await gazetteer.geocode("78704")
    assert result.line1 is None and result.label == "Austin, TX 78704"
    assert result.confidence < 0.5


@pytest.mark.parametrize(
    "query", ["1 Nowhere Rd", "9999 Congress Ave", "1100 Congress Ave, Dallas", "pizza"]
)
async def test_unknown_addresses_give_nothing(gazetteer, query) -> None:
    assert await gazetteer.geocode(query) == []


async def test_reverse_finds_the_nearest_address(gazetteer) -> None:
    result = await gazetteer.reverse(Point(30.2748, -97.7405))
    assert result is not None and result.line1 == "1100 Congress Ave"


async def test_reverse_away_from_addresses_falls_back_to_the_postcode_area(gazetteer) -> None:
    result = await gazetteer.reverse(Point(30.2300, -97.7200))
    assert result is not None and (result.line1, result.postcode) == (None, "78741")


async def test_reverse_outside_the_city_gives_nothing(gazetteer) -> None:
    assert await gazetteer.reverse(Point(32.7767, -96.7970)) is None  # Dallas
