"""Opening hours: evaluated on the store's wall clock, across midnight, holidays, force-closed."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from shared.errors import DomainError
from subgraphs.geo import service

# 2026-01-05 is a Monday (CST, UTC-6); 2026-07-06 is a Monday (CDT, UTC-5).
MONDAY_NOON = datetime.fromisoformat("2026-01-05T18:00:00+00:00")
MONDAY_10_00 = datetime.fromisoformat("2026-01-05T16:00:00+00:00")
MONDAY_10_30 = datetime.fromisoformat("2026-01-05T16:30:00+00:00")
TUESDAY_00_30 = datetime.fromisoformat("2026-01-06T06:30:00+00:00")
TUESDAY_01_00 = datetime.fromisoformat("2026-01-06T07:00:00+00:00")
TUESDAY_01_30 = datetime.fromisoformat("2026-01-06T07:30:00+00:00")
SUMMER_06_30_UTC = datetime.fromisoformat("2026-07-07T06:30:00+00:00")  # 01:30 CDT Tuesday


def open_state(store, at: datetime, method: str = "DELIVERY") -> service.OpenState:
    return service.open_state(store=store, service_method=method, at=at)


def test_open_during_the_day(make_store) -> None:
    assert open_state(make_store(), MONDAY_NOON) == service.OpenState(True)


def test_opening_time_is_inclusive_and_closing_time_exclusive(make_store) -> None:
    store = make_store()
    assert open_state(store, MONDAY_10_30).is_open
    assert not open_state(store, TUESDAY_01_00).is_open


def test_closed_before_opening_says_outside_hours(make_store) -> None:
    assert open_state(make_store(), MONDAY_10_00) == service.OpenState(False, "OUTSIDE_HOURS")


def test_period_crossing_midnight_stays_open_into_the_next_morning(make_store) -> None:
    store = make_store()
    assert open_state(store, TUESDAY_00_30).is_open
    assert not open_state(store, TUESDAY_01_30).is_open


def test_the_morning_after_belongs_to_the_previous_days_period(make_store) -> None:
    store = make_store(hours=[("DELIVERY", 0, "18:00", "02:00")])  # Monday evenings only
    assert open_state(store, TUESDAY_01_00).is_open
    assert not open_state(store, datetime.fromisoformat("2026-01-07T01:00:00+00:00")).is_open
    assert not open_state(store, datetime.fromisoformat("2026-01-05T07:00:00+00:00")).is_open


def test_hours_are_read_on_the_store_clock_including_daylight_saving(make_store) -> None:
    # 06:30 UTC is 00:30 in Austin in January but 01:30 in July (after closing).
    assert open_state(make_store(), TUESDAY_00_30).is_open
    assert not open_state(make_store(), SUMMER_06_30_UTC).is_open
    # The same instant is 01:30 in New York: past closing there.
    assert not open_state(make_store(time_zone="America/New_York"), TUESDAY_00_30).is_open


def test_naive_moment_is_taken_as_utc(make_store) -> None:
    assert open_state(make_store(), datetime(2026, 1, 6, 6, 30)).is_open
    assert not open_state(make_store(), datetime(2026, 1, 6, 7, 30)).is_open


def test_holiday_closes_the_whole_day(make_store) -> None:
    store = make_store(holidays=[date(2026, 12, 25)])
    christmas_noon = datetime.fromisoformat("2026-12-25T18:00:00+00:00")
    assert open_state(store, christmas_noon) == service.OpenState(False, "HOLIDAY")
    assert open_state(make_store(), christmas_noon).is_open


def test_holiday_keeps_the_eve_running_past_midnight_but_cancels_its_own_night(make_store) -> None:
    store = make_store(holidays=[date(2026, 12, 25)])
    assert open_state(store, datetime.fromisoformat("2026-12-25T06:30:00+00:00")).is_open
    after = open_state(store, datetime.fromisoformat("2026-12-26T06:30:00+00:00"))
    assert after == service.OpenState(False, "OUTSIDE_HOURS")


def test_force_closed_overrides_the_hours(make_store) -> None:
    store = make_store(force_closed=True)
    assert open_state(store, MONDAY_NOON) == service.OpenState(False, "FORCE_CLOSED")


def test_service_methods_have_their_own_hours(make_store) -> None:
    store = make_store(hours=[("DELIVERY", 0, "17:00", "23:00"), ("CARRYOUT", 0, "11:00", "22:00")])
    assert open_state(store, MONDAY_NOON, "CARRYOUT").is_open
    assert not open_state(store, MONDAY_NOON, "DELIVERY").is_open


def test_equal_opening_and_closing_means_open_around_the_clock(make_store) -> None:
    store = make_store(hours=[("DELIVERY", day, "00:00", "00:00") for day in range(7)])
    for hour in range(0, 24, 5):
        assert open_state(store, datetime(2026, 1, 5, hour, 17)).is_open


def test_wait_time_is_per_service_method(make_store) -> None:
    store = make_store()
    assert service.wait_time(store=store, service_method="DELIVERY") == service.WaitRange(25, 40)
    assert service.wait_time(store=store, service_method="CARRYOUT") == service.WaitRange(10, 20)


def test_unknown_service_method_is_refused(make_store) -> None:
    with pytest.raises(DomainError) as raised:
        open_state(make_store(), MONDAY_NOON, "DRONE")
    assert raised.value.field == "serviceMethod"
