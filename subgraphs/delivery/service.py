"""Delivery's rules: ETA ranges, dispatch, driver status and positions.

Plain functions with keyword-only arguments; no GraphQL here. The pure rules
(:func:`estimate_eta`, :func:`choose_driver`) take plain values so they can be
tested alone; the async functions apply them to a SQLAlchemy session and raise
:class:`shared.errors.DomainError` subclasses. Callers stage events in the outbox
within the same transaction (``shared.outbox``), never publish after the fact.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, DomainError, Forbidden, NotFound
from shared.ids import new_id
from subgraphs.delivery.models import Delivery, Driver, HandledEvent, StoreLocation, TrailPoint

if TYPE_CHECKING:
    from subgraphs.delivery.positions import PositionIndex

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
MAX_ORDERS_PER_DRIVER = 2
"""A driver may carry up to this many orders at once when they go the same way."""
SAME_WAY_DEGREES = 45.0
"""Two drop-offs go "the same way" when their bearings from the store differ by at most this."""
AT_STORE_METERS = 150.0
"""A driver this close to the store is at the store (can load more orders; is back)."""
DISTANCE_TIE_METERS = 100.0
"""Drivers whose distances to the store differ by less than this are equally near."""

DRIVER_STATUSES = ("OFF_DUTY", "AVAILABLE", "ON_DELIVERY", "RETURNING")
SETTABLE_DRIVER_STATUSES = ("OFF_DUTY", "AVAILABLE", "RETURNING")
ACTIVE_DELIVERY_STATUSES = ("ASSIGNED", "PICKED_UP")
MAX_TRAIL_POINTS = 500


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


@dataclass(frozen=True, slots=True)
class DriverCandidate:
    """What dispatch needs to know about one driver of the store."""

    driver_id: str
    status: str
    position: Point | None
    available_since: datetime | None
    carrying: tuple[Point, ...] = ()
    """Drop-offs of the orders the driver already carries."""


@dataclass(slots=True)
class Assignment:
    """A delivery given to a driver: what the caller publishes as ``DriverAssigned``."""

    delivery: Delivery
    driver: Driver


@dataclass(slots=True)
class PositionUpdate:
    """The result of a driver posting a position."""

    driver: Driver
    deliveries: list[Delivery]
    assignments: list[Assignment] = field(default_factory=list)


# --- geometry and ETA -------------------------------------------------------------------


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


# --- dispatch ---------------------------------------------------------------------------


def _goes_same_way(*, store: Point, dropoff: Point, carrying: Sequence[Point]) -> bool:
    heading = bearing_degrees(store, dropoff)
    return all(
        angle_between(heading, bearing_degrees(store, other)) <= SAME_WAY_DEGREES
        for other in carrying
    )


def can_take(
    candidate: DriverCandidate,
    *,
    store: Point | None,
    dropoff: Point,
    capacity: int = MAX_ORDERS_PER_DRIVER,
) -> bool:
    """Whether dispatch may give this order to the driver.

    An AVAILABLE driver carrying nothing always can. A driver already ON_DELIVERY can
    take one more while still at the store, below ``capacity``, when every order they
    carry goes the same way (bearing from the store within SAME_WAY_DEGREES).
    """
    if candidate.status == "AVAILABLE" and not candidate.carrying:
        return True
    if candidate.status != "ON_DELIVERY" or store is None:
        return False
    if not candidate.carrying or len(candidate.carrying) >= capacity:
        return False
    if candidate.position is None or haversine_meters(candidate.position, store) > AT_STORE_METERS:
        return False
    return _goes_same_way(store=store, dropoff=dropoff, carrying=candidate.carrying)


def choose_driver(
    *,
    candidates: Sequence[DriverCandidate],
    store: Point | None,
    dropoff: Point,
    capacity: int = MAX_ORDERS_PER_DRIVER,
) -> DriverCandidate | None:
    """The best driver for an order, or None when nobody can take it.

    Among drivers who :func:`can_take` it: the nearest to the store; drivers within
    DISTANCE_TIE_METERS of the nearest count as tied and the one idle longest (earliest
    ``available_since``) wins; drivers without a known position come last.
    """
    eligible = [
        c for c in candidates if can_take(c, store=store, dropoff=dropoff, capacity=capacity)
    ]
    if not eligible:
        return None

    def distance(c: DriverCandidate) -> float:
        if store is None:
            return 0.0
        return math.inf if c.position is None else haversine_meters(c.position, store)

    nearest = min(distance(c) for c in eligible)
    tied = [
        c for c in eligible if distance(c) - nearest < DISTANCE_TIE_METERS or nearest == math.inf
    ]
    far_future = datetime.max.replace(tzinfo=utcnow().tzinfo)
    return min(tied, key=lambda c: (c.available_since or far_future, distance(c), c.driver_id))


# --- events -----------------------------------------------------------------------------


async def record_event(*, session: AsyncSession, event_id: str, event_type: str) -> bool:
    """Remember an event as handled; False when it was handled before (a redelivery)."""
    if await session.get(HandledEvent, event_id) is not None:
        return False
    session.add(HandledEvent(event_id=event_id, event_type=event_type, handled_at=utcnow()))
    await session.flush()
    return True


async def _store_point(
    session: AsyncSession, store_id: str
) -> tuple[Point | None, StoreLocation | None]:
    store = await session.get(StoreLocation, store_id)
    return (Point(store.lat, store.lng) if store else None), store


def _dropoff(delivery: Delivery) -> Point:
    return Point(delivery.dropoff_lat, delivery.dropoff_lng)


def _driver_point(driver: Driver | None) -> Point | None:
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
    store_point, store = await _store_point(session, delivery.store_id)
    driver_point = _driver_point(driver)
    dropoff = _dropoff(delivery)
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


async def create_delivery(
    *,
    session: AsyncSession,
    order_id: str,
    customer_id: str,
    store_id: str,
    dropoff: Point,
    placed_at: datetime | None = None,
) -> Delivery:
    """The PENDING delivery of a newly placed DELIVERY order, with its first ETA range."""
    existing = await get_delivery_by_order(session=session, order_id=order_id)
    if existing is not None:
        return existing
    delivery = Delivery(
        id=new_id("dlv"),
        order_id=order_id,
        customer_id=customer_id,
        store_id=store_id,
        status="PENDING",
        dropoff_lat=dropoff.lat,
        dropoff_lng=dropoff.lng,
        placed_at=placed_at or utcnow(),
    )
    session.add(delivery)
    await session.flush()
    await refresh_eta(session=session, delivery=delivery)
    return delivery


async def get_delivery_by_order(*, session: AsyncSession, order_id: str) -> Delivery | None:
    """The delivery of an order, if it is a delivery order."""
    return await session.scalar(select(Delivery).where(Delivery.order_id == order_id))


async def _active_deliveries(session: AsyncSession, driver_id: str) -> list[Delivery]:
    rows = await session.scalars(
        select(Delivery)
        .where(Delivery.driver_id == driver_id, Delivery.status.in_(ACTIVE_DELIVERY_STATUSES))
        .order_by(Delivery.assigned_at, Delivery.id)
    )
    return list(rows)


async def _indexed_positions(
    positions: PositionIndex | None, *, store_id: str, store: Point | None
) -> dict[str, Point]:
    """Latest positions of the store's drivers from the spatial index (empty without one)."""
    if positions is None or store is None:
        return {}
    return {p.driver_id: p.point for p in await positions.nearest(store_id=store_id, center=store)}


async def _candidates(
    session: AsyncSession,
    store_id: str,
    *,
    store: Point | None = None,
    positions: PositionIndex | None = None,
) -> tuple[list[Driver], list[DriverCandidate]]:
    """The store's active AVAILABLE and ON_DELIVERY drivers (rows locked) as dispatch sees them.

    A driver users no longer has as an active DRIVER (``active`` false), or who is about
    to move to another store (``next_store_id``), is never one. A driver's position is
    the index's when it has one, else the ``drivers`` row's.
    """
    indexed = await _indexed_positions(positions, store_id=store_id, store=store)
    drivers = list(
        await session.scalars(
            select(Driver)
            .where(
                Driver.store_id == store_id,
                Driver.status.in_(("AVAILABLE", "ON_DELIVERY")),
                Driver.active.is_(True),
                Driver.next_store_id.is_(None),
            )
            .order_by(Driver.id)
            .with_for_update()
        )
    )
    candidates = []
    for driver in drivers:
        carrying = tuple(_dropoff(d) for d in await _active_deliveries(session, driver.id))
        candidates.append(
            DriverCandidate(
                driver_id=driver.id,
                status=driver.status,
                position=indexed.get(driver.id) or _driver_point(driver),
                available_since=driver.available_since,
                carrying=carrying,
            )
        )
    return drivers, candidates


async def _assign(session: AsyncSession, delivery: Delivery, driver: Driver) -> Assignment:
    delivery.driver_id = driver.id
    delivery.status = "ASSIGNED"
    delivery.assigned_at = utcnow()
    delivery.picked_up_at = None
    driver.status = "ON_DELIVERY"
    await session.flush()
    await refresh_eta(session=session, delivery=delivery, driver=driver)
    return Assignment(delivery=delivery, driver=driver)


async def dispatch(
    *, session: AsyncSession, delivery: Delivery, positions: PositionIndex | None = None
) -> Assignment | None:
    """Give a PENDING delivery to the best driver of its store (see :func:`choose_driver`).

    Drivers' positions come from ``positions`` (the spatial index) when given, falling back
    to the last position in the database for drivers it does not know.
    """
    if delivery.status != "PENDING":
        return None
    store_point, _ = await _store_point(session, delivery.store_id)
    drivers, candidates = await _candidates(
        session, delivery.store_id, store=store_point, positions=positions
    )
    best = choose_driver(candidates=candidates, store=store_point, dropoff=_dropoff(delivery))
    if best is None:
        return None
    driver = next(d for d in drivers if d.id == best.driver_id)
    return await _assign(session, delivery, driver)


async def dispatch_waiting(
    *, session: AsyncSession, store_id: str, positions: PositionIndex | None = None
) -> list[Assignment]:
    """Dispatch the store's ready deliveries still waiting for a driver, oldest first."""
    waiting = await session.scalars(
        select(Delivery)
        .where(
            Delivery.store_id == store_id,
            Delivery.status == "PENDING",
            Delivery.ready_at.is_not(None),
        )
        .order_by(Delivery.ready_at, Delivery.id)
    )
    assignments = []
    for delivery in list(waiting):
        assignment = await dispatch(session=session, delivery=delivery, positions=positions)
        if assignment is None:
            break
        assignments.append(assignment)
    return assignments


async def mark_ready(
    *, session: AsyncSession, order_id: str, positions: PositionIndex | None = None
) -> Assignment | None:
    """The order reached QUALITY_CHECK: it is ready to go; dispatch it."""
    delivery = await get_delivery_by_order(session=session, order_id=order_id)
    if delivery is None or delivery.status != "PENDING":
        return None
    delivery.ready_at = delivery.ready_at or utcnow()
    await refresh_eta(session=session, delivery=delivery)
    return await dispatch(session=session, delivery=delivery, positions=positions)


async def mark_picked_up(*, session: AsyncSession, order_id: str) -> Delivery | None:
    """The order went OUT_FOR_DELIVERY: its driver has it."""
    delivery = await get_delivery_by_order(session=session, order_id=order_id)
    if delivery is None or delivery.status != "ASSIGNED":
        return delivery
    delivery.status = "PICKED_UP"
    delivery.picked_up_at = utcnow()
    driver = await session.get(Driver, delivery.driver_id) if delivery.driver_id else None
    await refresh_eta(session=session, delivery=delivery, driver=driver)
    return delivery


def _off_duty(driver: Driver) -> None:
    """OFF_DUTY, at the store users moved them to if a move was waiting."""
    driver.status = "OFF_DUTY"
    driver.available_since = None
    if driver.next_store_id:
        driver.store_id, driver.next_store_id = driver.next_store_id, None


async def _release_driver(session: AsyncSession, driver: Driver, *, store_id: str) -> None:
    """After a delivery ends or moves away: AVAILABLE at the store, else RETURNING.

    A driver who is no longer active, or whose move to another store was waiting for
    their orders to end, goes OFF_DUTY instead (at the new store).
    """
    if await _active_deliveries(session, driver.id):
        return
    if not driver.active or driver.next_store_id:
        _off_duty(driver)
        return
    store_point, _ = await _store_point(session, store_id)
    position = _driver_point(driver)
    at_store = (
        store_point is not None
        and position is not None
        and haversine_meters(position, store_point) <= AT_STORE_METERS
    )
    if at_store:
        driver.status = "AVAILABLE"
        driver.available_since = utcnow()
    else:
        driver.status = "RETURNING"
        driver.available_since = None


async def cancel_delivery(*, session: AsyncSession, order_id: str) -> Delivery | None:
    """The order was cancelled: cancel the delivery and free its driver."""
    delivery = await get_delivery_by_order(session=session, order_id=order_id)
    if delivery is None or delivery.status in ("DELIVERED", "CANCELLED"):
        return delivery
    driver_id = delivery.driver_id
    delivery.status = "CANCELLED"
    delivery.cancelled_at = utcnow()
    await session.flush()
    if driver_id:
        driver = await session.get(Driver, driver_id)
        if driver is not None:
            await _release_driver(session, driver, store_id=delivery.store_id)
    return delivery


async def _finish(session: AsyncSession, delivery: Delivery) -> None:
    delivery.status = "DELIVERED"
    delivery.delivered_at = utcnow()
    delivery.eta_min_minutes = delivery.eta_max_minutes = 0
    delivery.eta_computed_at = delivery.delivered_at
    await session.flush()
    if delivery.driver_id:
        driver = await session.get(Driver, delivery.driver_id)
        if driver is not None:
            await _release_driver(session, driver, store_id=delivery.store_id)


async def mark_delivered(*, session: AsyncSession, order_id: str) -> Delivery | None:
    """The order was marked DELIVERED (by staff, or after completeDelivery)."""
    delivery = await get_delivery_by_order(session=session, order_id=order_id)
    if delivery is None or delivery.status in ("DELIVERED", "CANCELLED"):
        return delivery
    await _finish(session, delivery)
    return delivery


# --- access -----------------------------------------------------------------------------


def is_staff_of(principal: Principal | None, store_id: str) -> bool:
    """Admins run every store; staff run the store in their token."""
    if principal is None:
        return False
    return principal.has_role("ADMIN") or (
        principal.has_role("STAFF") and principal.store_id == store_id
    )


def can_track(principal: Principal | None, delivery: Delivery) -> bool:
    """The customer of the order, its driver, and the store's staff see a delivery."""
    if principal is None:
        return False
    return principal.user_id in (delivery.customer_id, delivery.driver_id) or is_staff_of(
        principal, delivery.store_id
    )


def can_see_position(principal: Principal | None, driver: Driver) -> bool:
    """A driver's live position: the driver and their store's staff (customers use tracking)."""
    return principal is not None and (
        principal.user_id == driver.id or is_staff_of(principal, driver.store_id)
    )


async def get_driver(*, session: AsyncSession, driver_id: str) -> Driver:
    """The driver with ``driver_id``; NOT_FOUND otherwise."""
    driver = await session.get(Driver, driver_id)
    if driver is None:
        raise NotFound(f"No driver has id {driver_id!r}.")
    return driver


async def list_drivers(
    *, session: AsyncSession, principal: Principal | None, store_id: str | None
) -> list[Driver]:
    """Drivers of a store (its staff) or of every store (admins), by first name."""
    if principal is None or not principal.is_staff:
        raise Forbidden("Only store staff and admins can list drivers.")
    if store_id is None and not principal.has_role("ADMIN"):
        store_id = principal.store_id
    if store_id is not None and not is_staff_of(principal, store_id):
        raise Forbidden("You can only list the drivers of your own store.")
    query = select(Driver).order_by(Driver.first_name, Driver.id)
    if store_id is not None:
        query = query.where(Driver.store_id == store_id)
    return list(await session.scalars(query))


def first_name_of(full_name: str) -> str:
    """The first word of a full name (what customers see), as users' ``User.firstName``."""
    return (full_name.strip().split(" ", 1)[0] or full_name)[:100]


async def register_driver(
    *,
    session: AsyncSession,
    driver_id: str,
    first_name: str,
    store_id: str,
    changed_at: datetime | None = None,
) -> Driver:
    """A new driver account (users' ``UserRegistered``): OFF_DUTY at their store.

    A driver already known keeps their row as it is (status, position, vehicle): the
    event introduces drivers, it never resets one (redeliveries, demo drivers).
    ``changed_at`` is when users made the account (see :func:`apply_account_change`).
    """
    driver = await session.get(Driver, driver_id)
    if driver is not None:
        return driver
    driver = Driver(
        id=driver_id,
        first_name=first_name,
        store_id=store_id,
        status="OFF_DUTY",
        active=True,
        account_changed_at=changed_at,
    )
    session.add(driver)
    await session.flush()
    return driver


@dataclass(slots=True)
class AccountChange:
    """What a change of a user's account did to delivery's driver (the consumer logs it)."""

    driver: Driver | None
    """The driver row, None when the account is not (and was never) a driver here."""
    stale: bool = False
    """The change is older than the last one applied: nothing was done."""
    carrying: list[Delivery] = field(default_factory=list)
    """Deliveries the driver still carries: they stay theirs (staff can reassign them)."""


def is_dispatchable(*, roles: Collection[str], store_id: str | None, active: bool) -> bool:
    """Whether users' account is one delivery may dispatch: active, role DRIVER, a store."""
    return active and "DRIVER" in roles and bool(store_id)


async def apply_account_change(
    *,
    session: AsyncSession,
    driver_id: str,
    first_name: str,
    roles: Collection[str],
    store_id: str | None,
    active: bool,
    changed_at: datetime | None = None,
) -> AccountChange:
    """Bring a driver in line with their account in users (roles, store, active).

    - A dispatchable account (:func:`is_dispatchable`) unknown here becomes an OFF_DUTY
      driver of its store; an account that is not one and has no driver row is ignored.
    - A driver who is no longer dispatchable (role DRIVER taken away, account
      deactivated) is ``active`` false: never a dispatch candidate, cannot go on duty or
      be assigned by staff. They go OFF_DUTY at once when carrying nothing, else when
      their last order ends; orders they carry stay theirs (``carrying``) until then or
      until staff reassign them. Dispatchable again (reactivated, role given back):
      ``active`` again, still OFF_DUTY until they go on duty themselves.
    - A move to another store (role DRIVER kept) applies at once to a driver carrying
      nothing, who goes OFF_DUTY (they go on duty at the new store); a driver carrying
      orders moves when their last one ends (``next_store_id``).
    - ``changed_at`` (when users made the change) older than the change applied last is
      ignored (``stale``): account events travel on different streams and may arrive
      out of order. Redeliveries are the caller's concern (``record_event``).
    """
    dispatchable = is_dispatchable(roles=roles, store_id=store_id, active=active)
    driver = await session.get(Driver, driver_id, with_for_update=True)
    if driver is None:
        if not dispatchable or store_id is None:
            return AccountChange(driver=None)
        driver = await register_driver(
            session=session,
            driver_id=driver_id,
            first_name=first_name,
            store_id=store_id,
            changed_at=changed_at,
        )
        return AccountChange(driver=driver)
    last = driver.account_changed_at
    if changed_at is not None and last is not None and changed_at < last:
        return AccountChange(driver=driver, stale=True)
    driver.account_changed_at = changed_at or last
    driver.active = dispatchable
    carrying = await _active_deliveries(session, driver.id)
    if "DRIVER" in roles and store_id:
        driver.next_store_id = store_id if store_id != driver.store_id else None
    else:
        driver.next_store_id = None  # not a driver any more: they stay where they were
    if not carrying and (not dispatchable or driver.next_store_id):
        _off_duty(driver)
    await session.flush()
    return AccountChange(driver=driver, carrying=carrying)


# --- driver actions ---------------------------------------------------------------------


async def set_driver_status(
    *,
    session: AsyncSession,
    principal: Principal,
    driver_id: str,
    status: str,
    positions: PositionIndex | None = None,
) -> tuple[Driver, list[Assignment]]:
    """A driver (or their store's staff) goes OFF_DUTY, AVAILABLE or RETURNING.

    ON_DELIVERY is set by dispatch only; a driver carrying orders keeps it until they
    are delivered or reassigned. A driver who is not ``active`` (see
    :func:`apply_account_change`) can only go OFF_DUTY. Becoming AVAILABLE starts the
    idle clock and dispatches the store's ready orders waiting for a driver.
    """
    driver = await get_driver(session=session, driver_id=driver_id)
    if principal.user_id != driver.id and not is_staff_of(principal, driver.store_id):
        raise Forbidden("Only the driver or their store's staff can change their status.")
    if status not in SETTABLE_DRIVER_STATUSES:
        raise DomainError(
            "ON_DELIVERY is set by dispatch, not by hand.", code="INVALID_STATUS", field="status"
        )
    if not driver.active and status != "OFF_DUTY":
        raise Conflict(
            "The account is no longer an active driver's (deactivated, or no DRIVER role).",
            code="DRIVER_INACTIVE",
            field="status",
        )
    if await _active_deliveries(session, driver.id):
        raise Conflict(
            "The driver is carrying orders: deliver them or have them reassigned first.",
            code="DRIVER_HAS_ACTIVE_DELIVERIES",
        )
    if status == driver.status:
        return driver, []
    driver.status = status
    driver.available_since = utcnow() if status == "AVAILABLE" else None
    await session.flush()
    assignments = []
    if status == "AVAILABLE":
        assignments = await dispatch_waiting(
            session=session, store_id=driver.store_id, positions=positions
        )
    return driver, assignments


def _check_position(*, lat: float, lng: float, heading: float | None, speed: float | None) -> None:
    checks = (
        ("lat", -90 <= lat <= 90, "Latitude must be between -90 and 90."),
        ("lng", -180 <= lng <= 180, "Longitude must be between -180 and 180."),
        ("heading", heading is None or 0 <= heading < 360, "Heading must be in [0, 360)."),
        ("speed", speed is None or 0 <= speed <= 100, "Speed must be 0..100 m/s."),
    )
    for name, ok, message in checks:
        if not ok:
            raise DomainError(message, code="INVALID_POSITION", field=name)


async def post_driver_position(
    *,
    session: AsyncSession,
    principal: Principal,
    lat: float,
    lng: float,
    heading: float | None = None,
    speed: float | None = None,
    positions: PositionIndex | None = None,
) -> PositionUpdate:
    """The caller (a driver) is here now.

    Keeps it as the latest position (the ``drivers`` row and, when given, the spatial
    index ``positions``), appends it to the trail of each delivery they carry and
    recomputes those ETA ranges; a RETURNING driver who reaches the store becomes
    AVAILABLE (and may be dispatched at once).
    """
    _check_position(lat=lat, lng=lng, heading=heading, speed=speed)
    driver = await session.get(Driver, principal.user_id)
    if driver is None:
        raise Forbidden("Only registered drivers can post positions.")
    now = utcnow()
    driver.lat, driver.lng, driver.heading, driver.speed = lat, lng, heading, speed
    driver.position_at = now
    if positions is not None:
        # Before dispatch below, so it sees where the driver is now. Indexed even if this
        # transaction fails: it is still the driver's latest position.
        await positions.record(store_id=driver.store_id, driver_id=driver.id, point=Point(lat, lng))
    update = PositionUpdate(driver=driver, deliveries=[])
    if driver.status == "RETURNING" and driver.active:
        store_point, _ = await _store_point(session, driver.store_id)
        if store_point and haversine_meters(Point(lat, lng), store_point) <= AT_STORE_METERS:
            driver.status = "AVAILABLE"
            driver.available_since = now
            await session.flush()
            update.assignments = await dispatch_waiting(
                session=session, store_id=driver.store_id, positions=positions
            )
    for delivery in await _active_deliveries(session, driver.id):
        session.add(
            TrailPoint(
                delivery_id=delivery.id, lat=lat, lng=lng, heading=heading, speed=speed, at=now
            )
        )
        await refresh_eta(session=session, delivery=delivery, driver=driver)
        update.deliveries.append(delivery)
    await session.flush()
    return update


def _held_back(driver: Driver) -> str | None:
    """Why no new order may go to the driver whatever their status, if anything."""
    if not driver.active:
        return "no longer an active driver"
    if driver.next_store_id:
        return "moving to another store"
    return None


async def assign_driver(
    *, session: AsyncSession, principal: Principal, order_id: str, driver_id: str
) -> tuple[Delivery, Driver, bool]:
    """Staff give an order to a driver of their store (reassigning it if needed).

    Returns the delivery, the driver and whether anything changed. The driver must be
    active, not about to move to another store, and AVAILABLE, or ON_DELIVERY below
    MAX_ORDERS_PER_DRIVER (staff may ignore direction).
    """
    delivery = await get_delivery_by_order(session=session, order_id=order_id)
    if delivery is None:
        raise NotFound(f"Order {order_id!r} has no delivery.")
    if not is_staff_of(principal, delivery.store_id):
        raise Forbidden("Only the store's staff can assign its drivers.")
    if delivery.status in ("DELIVERED", "CANCELLED"):
        raise Conflict(
            f"The delivery is {delivery.status.lower()} already.", code="DELIVERY_CLOSED"
        )
    driver = await session.get(Driver, driver_id)
    if driver is None:
        raise NotFound(f"No driver has id {driver_id!r}.", field="driverId")
    if delivery.driver_id == driver.id:
        return delivery, driver, False
    carrying = await _active_deliveries(session, driver.id)
    available = driver.status == "AVAILABLE" or (
        driver.status == "ON_DELIVERY" and len(carrying) < MAX_ORDERS_PER_DRIVER
    )
    held_back = _held_back(driver)
    if driver.store_id != delivery.store_id or not available or held_back:
        raise DomainError(
            f"{driver.first_name} cannot take this order now ({held_back or driver.status}).",
            code="DRIVER_NOT_AVAILABLE",
            field="driverId",
        )
    previous_id = delivery.driver_id
    assignment = await _assign(session, delivery, driver)
    if previous_id:
        previous = await session.get(Driver, previous_id)
        if previous is not None:
            await _release_driver(session, previous, store_id=delivery.store_id)
    return assignment.delivery, driver, True


async def complete_delivery(
    *, session: AsyncSession, principal: Principal, order_id: str
) -> Delivery:
    """The driver of the delivery handed the order over: DELIVERED; they head back."""
    delivery = await get_delivery_by_order(session=session, order_id=order_id)
    if delivery is None:
        raise NotFound(f"Order {order_id!r} has no delivery.")
    if delivery.driver_id != principal.user_id:
        raise Forbidden("Only the driver carrying this order can complete it.")
    if delivery.status not in ACTIVE_DELIVERY_STATUSES:
        raise Conflict(
            f"The delivery is {delivery.status.lower()}, not on its way.",
            code="DELIVERY_NOT_ACTIVE",
        )
    await _finish(session, delivery)
    return delivery


async def trail(*, session: AsyncSession, delivery_id: str, last: int) -> list[TrailPoint]:
    """The last ``last`` positions of a delivery, oldest first."""
    rows = await session.scalars(
        select(TrailPoint)
        .where(TrailPoint.delivery_id == delivery_id)
        .order_by(TrailPoint.id.desc())
        .limit(min(max(last, 0), MAX_TRAIL_POINTS))
    )
    return list(reversed(list(rows)))
