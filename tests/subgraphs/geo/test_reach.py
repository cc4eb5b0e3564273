"""Who can serve a place: delivery zones, the carryout radius, and who may manage a store."""

from __future__ import annotations

import pytest

from shared.auth import Principal
from shared.errors import Forbidden, Unauthenticated
from subgraphs.geo import service
from subgraphs.geo.geometry import Point, road_distance_meters

INSIDE_SQUARE = Point(30.275, -97.735)
OUTSIDE_SQUARE = Point(30.29, -97.74)


def reach(store, point: Point | None, method: str = "DELIVERY") -> service.Reach:
    return service.reach(store=store, service_method=method, point=point)


def test_delivery_inside_the_polygon_is_served_with_road_distance(make_store) -> None:
    store = make_store()
    answer = reach(store, INSIDE_SQUARE)
    assert answer.can_serve and answer.reason_code is None
    assert answer.distance_meters == round(road_distance_meters(store.location, INSIDE_SQUARE))


def test_delivery_outside_the_polygon_is_out_of_zone(make_store) -> None:
    answer = reach(make_store(), OUTSIDE_SQUARE)
    assert not answer.can_serve
    assert answer.reason_code == "OUT_OF_ZONE"
    assert answer.distance_meters is not None


def test_radius_zone_counts_straight_line_metres_from_the_store(make_store) -> None:
    store = make_store(radius=2000)
    assert store.polygon is None
    assert reach(store, Point(30.27 + 1900 / 111_195, -97.74)).can_serve
    assert reach(store, Point(30.27 + 2100 / 111_195, -97.74)).reason_code == "OUT_OF_ZONE"


def test_delivery_needs_a_location(make_store) -> None:
    answer = reach(make_store(), None)
    assert (answer.can_serve, answer.reason_code) == (False, "LOCATION_REQUIRED")


def test_carryout_reaches_25_km_by_road(make_store) -> None:
    store = make_store()
    near = Point(30.27 + 19_000 / 111_195, -97.74)  # 19 km straight, 24.7 km by road
    far = Point(30.27 + 20_000 / 111_195, -97.74)  # 20 km straight, 26 km by road
    assert reach(store, near, "CARRYOUT").can_serve
    answer = reach(store, far, "CARRYOUT")
    assert (answer.can_serve, answer.reason_code) == (False, "TOO_FAR")


def test_carryout_without_a_location_is_fine(make_store) -> None:
    answer = reach(make_store(), None, "CARRYOUT")
    assert answer.can_serve and answer.distance_meters is None


def test_a_method_without_hours_is_not_offered(make_store) -> None:
    store = make_store(hours=[("CARRYOUT", 0, "11:00", "22:00")])
    assert reach(store, INSIDE_SQUARE).reason_code == "SERVICE_NOT_OFFERED"


@pytest.mark.parametrize(
    ("principal", "error"),
    [
        (None, Unauthenticated),
        (Principal("usr_c", frozenset({"CUSTOMER"})), Forbidden),
        (Principal("usr_s", frozenset({"STAFF"}), store_id="sto_other"), Forbidden),
        (Principal("usr_d", frozenset({"DRIVER"}), store_id="sto_test"), Forbidden),
    ],
)
def test_only_admins_and_the_stores_staff_manage_it(principal, error) -> None:
    with pytest.raises(error):
        service.ensure_can_manage_store(principal, "sto_test")


def test_staff_of_the_store_and_admins_may_manage_it() -> None:
    staff = Principal("usr_s", frozenset({"STAFF"}), store_id="sto_test")
    admin = Principal("usr_a", frozenset({"ADMIN"}))
    assert service.ensure_can_manage_store(staff, "sto_test") is staff
    assert service.ensure_can_manage_store(admin, "sto_test") is admin
