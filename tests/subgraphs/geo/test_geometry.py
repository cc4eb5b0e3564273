"""Distances and zones: haversine, the road factor, ray casting and radius zones."""

from __future__ import annotations

import math

import pytest

from subgraphs.geo import demo
from subgraphs.geo.geometry import (
    ROAD_FACTOR,
    Point,
    haversine_meters,
    is_valid_point,
    point_in_polygon,
    road_distance_meters,
    within_radius,
)

NASHVILLE = Point(36.12, -86.67)
LOS_ANGELES = Point(33.94, -118.40)
HOME = Point(30.2747, -97.7404)  # 1100 Congress Ave, the demo customer's home
L_SHAPE = [Point(0, 0), Point(0, 4), Point(2, 4), Point(2, 2), Point(4, 2), Point(4, 0)]


def test_haversine_matches_the_known_nashville_to_los_angeles_distance() -> None:
    # The textbook example: 2887.26 km with R = 6372.8 km, i.e. 2886.45 km with the mean radius.
    assert haversine_meters(NASHVILLE, LOS_ANGELES) == pytest.approx(2_886_450, rel=1e-4)


def test_one_degree_of_latitude_is_about_111_km() -> None:
    assert haversine_meters(Point(30, -97), Point(31, -97)) == pytest.approx(111_195, rel=1e-4)


def test_haversine_is_symmetric_and_zero_on_the_same_point() -> None:
    assert haversine_meters(HOME, NASHVILLE) == pytest.approx(haversine_meters(NASHVILLE, HOME))
    assert haversine_meters(HOME, HOME) == 0


def test_road_distance_applies_the_road_factor() -> None:
    assert ROAD_FACTOR == 1.3
    straight = haversine_meters(HOME, LOS_ANGELES)
    assert road_distance_meters(HOME, LOS_ANGELES) == pytest.approx(straight * 1.3)
    assert road_distance_meters(HOME, LOS_ANGELES, road_factor=1.0) == pytest.approx(straight)


def test_point_in_convex_polygon() -> None:
    square = [Point(0, 0), Point(0, 1), Point(1, 1), Point(1, 0)]
    assert point_in_polygon(Point(0.5, 0.5), square)
    assert not point_in_polygon(Point(1.5, 0.5), square)
    assert not point_in_polygon(Point(0.5, -0.1), square)


def test_point_in_the_notch_of_a_concave_polygon_is_outside() -> None:
    assert point_in_polygon(Point(1, 1), L_SHAPE)
    assert point_in_polygon(Point(3, 1), L_SHAPE)
    assert point_in_polygon(Point(1, 3), L_SHAPE)
    assert not point_in_polygon(Point(3, 3), L_SHAPE)


def test_degenerate_polygon_contains_nothing() -> None:
    assert not point_in_polygon(Point(0, 0), [Point(0, 0), Point(1, 1)])


def test_radius_uses_great_circle_distance() -> None:
    center = Point(30.2620, -97.7200)
    one_km_north = Point(30.2620 + 1000 / 111_195, -97.7200)
    assert within_radius(one_km_north, center=center, radius_meters=1001)
    assert not within_radius(one_km_north, center=center, radius_meters=999)


def test_demo_home_is_inside_the_downtown_zone_only_among_polygons() -> None:
    assert point_in_polygon(HOME, demo.DOWNTOWN_ZONE)
    assert not point_in_polygon(HOME, demo.SOUTH_LAMAR_ZONE)


@pytest.mark.parametrize(
    ("point", "valid"),
    [
        (Point(30, -97), True),
        (Point(91, 0), False),
        (Point(0, -181), False),
        (Point(math.nan, 0), False),
    ],
)
def test_point_validity(point: Point, valid: bool) -> None:
    assert is_valid_point(point) is valid
