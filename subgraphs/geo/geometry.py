"""Distances and delivery zones on the Earth's surface.

Plain functions over :class:`Point` (WGS 84 degrees); no database, no GraphQL.
Distance is great-circle (haversine) times a road factor, so a routing engine
can replace :func:`road_distance_meters` later without touching callers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

EARTH_RADIUS_METERS = 6_371_008.8
"""Mean Earth radius (IUGG), the usual choice for haversine."""

ROAD_FACTOR = 1.3
"""How much longer a trip by road is than the straight line, on average in a city grid."""


class Point(NamedTuple):
    """A position in degrees: latitude, longitude."""

    lat: float
    lng: float


def is_valid_point(point: Point) -> bool:
    """True when the latitude and longitude are finite and in range."""
    return (
        math.isfinite(point.lat)
        and math.isfinite(point.lng)
        and -90.0 <= point.lat <= 90.0
        and -180.0 <= point.lng <= 180.0
    )


def haversine_meters(a: Point, b: Point) -> float:
    """Great-circle distance between two points, in metres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlng = math.radians(b.lng - a.lng)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlng / 2) ** 2
    return 2 * EARTH_RADIUS_METERS * math.asin(min(1.0, math.sqrt(h)))


def road_distance_meters(a: Point, b: Point, *, road_factor: float = ROAD_FACTOR) -> float:
    """Estimated distance by road: the great-circle distance times ``road_factor``."""
    return haversine_meters(a, b) * road_factor


def point_in_polygon(point: Point, polygon: Sequence[Point]) -> bool:
    """Ray casting: is ``point`` inside the simple polygon (vertices in order, not closed)?

    Coordinates are treated as planar, which is exact enough for city-sized zones
    away from the poles and the antimeridian. Points on an edge may fall either way.
    """
    if len(polygon) < 3:
        return False
    inside = False
    x, y = point.lng, point.lat
    j = len(polygon) - 1
    for i, vertex in enumerate(polygon):
        xi, yi = vertex.lng, vertex.lat
        xj, yj = polygon[j].lng, polygon[j].lat
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def within_radius(point: Point, *, center: Point, radius_meters: float) -> bool:
    """Is ``point`` within ``radius_meters`` (great-circle) of ``center``?"""
    return haversine_meters(point, center) <= radius_meters
