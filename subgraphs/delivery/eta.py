"""Where things are and when an order arrives: WGS 84 geometry and ETA ranges.

The pure rules (:func:`haversine_meters`, :func:`bearing_degrees`, :func:`estimate_eta`)
take plain values so they can be tested alone; :func:`refresh_eta` applies the formula to a
delivery in a SQLAlchemy session, from where its store, its driver and its customer are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import utcnow
from subgraphs.delivery.models import ACTIVE_DELIVERY_STATUSES, Delivery, Driver, StoreLocation

EARTH_RADIUS_METERS = 6_371_000.0
ROAD_FACTOR = 1.3
"""Streets are longer than the great circle: road distance ≈ haversine * 1.3 in a city grid."""
AVERAGE_URBAN_SPEED_KMH = 25.0
"""Door-to-door average of a delivery car or scooter in city traffic."""
QUEUE_MINUTES_PER_ORDER = 2.0
"""How much each order ahead in the kitchen delays this one (make-line throughput)."""
ETA_SPREAD = 0.2
"""The upper bound is the expected time plus 20 % ..."""
ETA_BUFFER_MINUTES = 5
"""... plus a fixed buffer for parking, stairs and handing over."""


@dataclass(frozen=True, slots=True)
class Point:
    """A WGS 84 coordinate in degrees."""

    lat: float
    lng: float


@dataclass(frozen=True, slots=True)
class EtaRange:
    """When the order should arrive, in minutes from now."""

    min_minutes: int
    max_minutes: int


# --- geometry ---------------------------------------------------------------------------


def haversine_meters(a: Point, b: Point) -> float:
    """Great-circle distance between two points, in metres."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lng - a.lng)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_METERS * math.asin(min(1.0, math.sqrt(h)))


def bearing_degrees(a: Point, b: Point) -> float:
    """Initial compass bearing from ``a`` to ``b``: 0 north, 90 east, in [0, 360)."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dlmb = math.radians(b.lng - a.lng)
    y = math.sin(dlmb) * math.cos(phi2)
    x = math.cos(phi1) * math.sin(phi2) - math.sin(phi1) * math.cos(phi2) * math.cos(dlmb)
    return (math.degrees(math.atan2(y, x)) + 360.0) % 360.0


def angle_between(a: float, b: float) -> float:
    """The smaller angle between two bearings, in [0, 180]."""
    diff = abs(a - b) % 360.0
    return min(diff, 360.0 - diff)


# --- ETA --------------------------------------------------------------------------------


def travel_minutes(distance_meters: float) -> float:
    """Driving time for a great-circle distance: haversine * road factor at urban speed."""
    road_meters = distance_meters * ROAD_FACTOR
    return road_meters / (AVERAGE_URBAN_SPEED_KMH * 1000.0 / 60.0)


def estimate_eta(
    *,
    distance_meters: float,
    queue_length: int = 0,
    prep_minutes: float = 0.0,
    bake_minutes: float = 0.0,
) -> EtaRange:
    """The arrival range of an order.

    expected = queue_length * QUEUE_MINUTES_PER_ORDER + prep + bake
               + distance * ROAD_FACTOR / AVERAGE_URBAN_SPEED
    min = max(1, floor(expected)); max = ceil(expected * (1 + ETA_SPREAD)) + ETA_BUFFER_MINUTES

    Kitchen terms are zero once the order left the kitchen (QUALITY_CHECK reached).
    """
    kitchen = queue_length * QUEUE_MINUTES_PER_ORDER + prep_minutes + bake_minutes
    expected = kitchen + travel_minutes(distance_meters)
    low = max(1, math.floor(expected))
    high = max(low, math.ceil(expected * (1 + ETA_SPREAD)) + ETA_BUFFER_MINUTES)
    return EtaRange(min_minutes=low, max_minutes=high)


async def locate_store(
    *, session: AsyncSession, store_id: str
) -> tuple[Point | None, StoreLocation | None]:
    """Where the store is and its row (prep and bake times); both None when unknown."""
    store = await session.get(StoreLocation, store_id)
    return (Point(store.lat, store.lng) if store else None), store


def dropoff_of(delivery: Delivery) -> Point:
    """Where the delivery goes: the customer's drop-off."""
    return Point(delivery.dropoff_lat, delivery.dropoff_lng)


def driver_position(driver: Driver | None) -> Point | None:
    """The driver's last posted position in the database, None when they never posted one."""
    if driver is None or driver.lat is None or driver.lng is None:
        return None
    return Point(driver.lat, driver.lng)


async def _kitchen_queue(session: AsyncSession, delivery: Delivery) -> int:
    """Orders of the same store still in the kitchen and placed before this one."""
    count = await session.scalar(
        select(func.count(Delivery.id)).where(
            Delivery.store_id == delivery.store_id,
            Delivery.status == "PENDING",
            Delivery.ready_at.is_(None),
            Delivery.placed_at < delivery.placed_at,
            Delivery.id != delivery.id,
        )
    )
    return int(count or 0)


async def refresh_eta(
    *, session: AsyncSession, delivery: Delivery, driver: Driver | None = None
) -> EtaRange | None:
    """Recompute and store the delivery's ETA range from where things stand now.

    PENDING: kitchen queue and prep/bake (until ready) + store → customer.
    ASSIGNED: driver → store → customer. PICKED_UP: driver → customer.
    """
    store_point, store = await locate_store(session=session, store_id=delivery.store_id)
    driver_point = driver_position(driver)
    dropoff = dropoff_of(delivery)
    eta: EtaRange | None = None
    if delivery.status == "PICKED_UP" and driver_point is not None:
        eta = estimate_eta(distance_meters=haversine_meters(driver_point, dropoff))
    elif store_point is not None and store is not None:
        distance = haversine_meters(store_point, dropoff)
        if delivery.status in ACTIVE_DELIVERY_STATUSES and driver_point is not None:
            distance += haversine_meters(driver_point, store_point)
        if delivery.ready_at is None:
            eta = estimate_eta(
                distance_meters=distance,
                queue_length=await _kitchen_queue(session, delivery),
                prep_minutes=store.prep_minutes,
                bake_minutes=store.bake_minutes,
            )
        else:
            eta = estimate_eta(distance_meters=distance)
    elif driver_point is not None:
        eta = estimate_eta(distance_meters=haversine_meters(driver_point, dropoff))
    if eta is not None:
        delivery.eta_min_minutes = eta.min_minutes
        delivery.eta_max_minutes = eta.max_minutes
        delivery.eta_computed_at = utcnow()
    return eta
