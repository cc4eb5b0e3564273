"""delivery rules without GraphQL: distance, ETA formula and the dispatch choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from subgraphs.delivery.dispatch import AT_STORE_METERS, DriverCandidate, choose_driver
from subgraphs.delivery.eta import EtaRange, Point, bearing_degrees, estimate_eta, haversine_meters

STORE = Point(30.2669, -97.7428)
NORTH = Point(30.2869, -97.7428)  # ~2.2 km north of the store
NORTH_EAST = Point(30.2850, -97.7300)  # ~40 degrees off north
SOUTH = Point(30.2469, -97.7428)
T0 = datetime(2026, 1, 1, 18, 0, tzinfo=UTC)


def near_store(metres_north: float) -> Point:
    return Point(STORE.lat + metres_north / 111_195, STORE.lng)


def available(driver_id: str, metres: float, idle_minutes: float) -> DriverCandidate:
    return DriverCandidate(
        driver_id=driver_id,
        status="AVAILABLE",
        position=near_store(metres),
        available_since=T0 - timedelta(minutes=idle_minutes),
    )


def test_haversine_one_degree_of_latitude_is_about_111_km() -> None:
    assert haversine_meters(Point(0, 0), Point(1, 0)) == pytest.approx(111_195, rel=1e-4)


def test_bearing_is_compass_degrees() -> None:
    assert bearing_degrees(STORE, NORTH) == pytest.approx(0, abs=0.01)
    assert bearing_degrees(STORE, SOUTH) == pytest.approx(180, abs=0.01)


def test_eta_adds_queue_prep_bake_and_travel_at_urban_speed() -> None:
    # 5 km * 1.3 road factor at 25 km/h = 15.6 min; kitchen 2 ahead * 2 + 6 + 7 = 17 min.
    eta = estimate_eta(distance_meters=5000, queue_length=2, prep_minutes=6, bake_minutes=7)
    assert eta == EtaRange(min_minutes=32, max_minutes=45)  # 32.6 -> [32, ceil(39.12) + 5]


def test_eta_after_the_kitchen_is_travel_only() -> None:
    assert estimate_eta(distance_meters=5000) == EtaRange(min_minutes=15, max_minutes=24)


def test_eta_grows_with_the_queue() -> None:
    short = estimate_eta(distance_meters=1000, queue_length=0, prep_minutes=6, bake_minutes=7)
    long = estimate_eta(distance_meters=1000, queue_length=5, prep_minutes=6, bake_minutes=7)
    assert long.min_minutes - short.min_minutes == 10


def test_eta_is_never_below_a_minute() -> None:
    assert estimate_eta(distance_meters=0).min_minutes == 1


def test_dispatch_picks_the_driver_nearest_to_the_store() -> None:
    far = available("far", metres=2000, idle_minutes=60)
    near = available("near", metres=500, idle_minutes=1)
    assert choose_driver(candidates=[far, near], store=STORE, dropoff=NORTH).driver_id == "near"


def test_dispatch_breaks_distance_ties_on_longest_idle() -> None:
    fresh = available("fresh", metres=10, idle_minutes=2)
    waiting = available("waiting", metres=40, idle_minutes=20)
    assert (
        choose_driver(candidates=[fresh, waiting], store=STORE, dropoff=NORTH).driver_id
        == "waiting"
    )


def test_dispatch_ignores_drivers_off_duty_or_returning() -> None:
    off = DriverCandidate("off", "OFF_DUTY", near_store(0), None)
    back = DriverCandidate("back", "RETURNING", near_store(0), None)
    assert choose_driver(candidates=[off, back], store=STORE, dropoff=NORTH) is None


def test_driver_at_the_store_takes_a_second_order_going_the_same_way() -> None:
    loaded = DriverCandidate(
        "loaded", "ON_DELIVERY", near_store(5), T0 - timedelta(minutes=30), (NORTH,)
    )
    other = available("other", metres=10, idle_minutes=5)
    chosen = choose_driver(candidates=[loaded, other], store=STORE, dropoff=NORTH_EAST)
    assert chosen.driver_id == "loaded"


def test_driver_never_carries_more_than_two_orders() -> None:
    full = DriverCandidate(
        "full", "ON_DELIVERY", near_store(5), T0 - timedelta(minutes=30), (NORTH, NORTH)
    )
    assert choose_driver(candidates=[full], store=STORE, dropoff=NORTH) is None


def test_orders_going_opposite_ways_are_not_batched() -> None:
    loaded = DriverCandidate(
        "loaded", "ON_DELIVERY", near_store(5), T0 - timedelta(minutes=30), (NORTH,)
    )
    other = available("other", metres=1000, idle_minutes=1)
    assert (
        choose_driver(candidates=[loaded, other], store=STORE, dropoff=SOUTH).driver_id == "other"
    )


def test_a_driver_who_left_the_store_takes_no_more_orders() -> None:
    gone = DriverCandidate("gone", "ON_DELIVERY", near_store(AT_STORE_METERS * 3), T0, (NORTH,))
    assert choose_driver(candidates=[gone], store=STORE, dropoff=NORTH) is None


def test_drivers_without_a_position_come_last() -> None:
    unknown = DriverCandidate("unknown", "AVAILABLE", None, T0 - timedelta(hours=2))
    known = available("known", metres=3000, idle_minutes=1)
    assert (
        choose_driver(candidates=[unknown, known], store=STORE, dropoff=NORTH).driver_id == "known"
    )
