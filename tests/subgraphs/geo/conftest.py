"""Fixtures of the geo tests: unsaved ``Store`` rows built in memory for rule tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from typing import Any

import pytest

from subgraphs.geo.geometry import Point
from subgraphs.geo.models import HolidayClosure, OpeningHours, Store

MakeStore = Callable[..., Store]

SQUARE_ZONE = [
    Point(30.26, -97.75),
    Point(30.26, -97.73),
    Point(30.28, -97.73),
    Point(30.28, -97.75),
]


def build_store(
    *,
    hours: list[tuple[str, int, str, str]] | None = None,
    holidays: list[date] | None = None,
    polygon: list[Point] | None = None,
    radius: int | None = None,
    **columns: Any,
) -> Store:
    """A store in Austin open daily, delivery 10:30-01:00 and carryout 10:30-23:00 by default.

    ``hours`` items are (service method, weekday 0=Monday, "HH:MM" opens, "HH:MM" closes).
    """
    values: dict[str, Any] = {
        "id": "sto_test",
        "name": "Test Store",
        "phone": "+1 512 555 0199",
        "line1": "416 Congress Ave",
        "city": "Austin",
        "postcode": "78701",
        "lat": 30.27,
        "lng": -97.74,
        "time_zone": "America/Chicago",
        "currency": "USD",
        "minimum_delivery_order": 1000,
        "delivery_fee": 399,
        "tax_rate_basis_points": 825,
        "zone_radius_meters": radius,
        "accepted_payment_methods": "CARD,CASH",
        "tipping_allowed": True,
        "force_closed": False,
        "delivery_wait_min": 25,
        "delivery_wait_max": 40,
        "carryout_wait_min": 10,
        "carryout_wait_max": 20,
    }
    values.update(columns)
    store = Store(**values)
    store.polygon = polygon if polygon is not None or radius is not None else SQUARE_ZONE
    if hours is None:
        hours = [("DELIVERY", day, "10:30", "01:00") for day in range(7)]
        hours += [("CARRYOUT", day, "10:30", "23:00") for day in range(7)]
    store.hours = [
        OpeningHours(
            service_method=method,
            weekday=day,
            opens=time.fromisoformat(opens),
            closes=time.fromisoformat(closes),
        )
        for method, day, opens, closes in hours
    ]
    store.holidays = [HolidayClosure(day=d, name="Holiday") for d in holidays or []]
    return store


@pytest.fixture
def make_store() -> MakeStore:
    """Build an unsaved store (see :func:`build_store`)."""
    return build_store
