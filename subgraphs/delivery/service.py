"""Delivery's rules: the life of a delivery, driver status and positions.

Plain functions with keyword-only arguments; no GraphQL here. The GraphQL layer and the
event consumers call this module; the rules it builds on live next to it and the names
they call are re-exported here: geometry and ETA ranges (:mod:`~subgraphs.delivery.eta`),
dispatch (:mod:`~subgraphs.delivery.dispatch`), driver accounts from users' events
(:mod:`~subgraphs.delivery.driver_accounts`) and who may see what
(:mod:`~subgraphs.delivery.access`). The async functions apply the rules to a SQLAlchemy
session and raise :class:`shared.errors.DomainError` subclasses. Callers stage events in the
outbox within the same transaction (``shared.outbox``), never publish after the fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, DomainError, Forbidden, NotFound
from shared.ids import new_id
from subgraphs.delivery.access import can_see_position, can_track, is_staff_of
from subgraphs.delivery.dispatch import (
    AT_STORE_METERS,
    MAX_ORDERS_PER_DRIVER,
    Assignment,
    active_deliveries,
    assign_delivery,
    dispatch,
    dispatch_waiting,
)
from subgraphs.delivery.driver_accounts import (
    AccountChange,
    apply_account_change,
    first_name_of,
    go_off_duty,
    register_driver,
)
from subgraphs.delivery.eta import (
    Point,
    driver_position,
    haversine_meters,
    locate_store,
    refresh_eta,
)
from subgraphs.delivery.models import (
    ACTIVE_DELIVERY_STATUSES,
    Delivery,
    Driver,
    HandledEvent,
    TrailPoint,
)

if TYPE_CHECKING:
    from subgraphs.delivery.positions import PositionIndex

__all__ = [  # what the GraphQL layer and the event consumers call, this module's and re-exported
    "ACTIVE_DELIVERY_STATUSES",
    "DRIVER_STATUSES",
    "MAX_TRAIL_POINTS",
    "SETTABLE_DRIVER_STATUSES",
    "AccountChange",
    "Assignment",
    "Point",
    "PositionUpdate",
    "apply_account_change",
    "assign_driver",
    "can_see_position",
    "can_track",
    "cancel_delivery",
    "complete_delivery",
    "create_delivery",
    "first_name_of",
    "get_delivery_by_order",
    "get_driver",
    "is_staff_of",
    "list_drivers",
    "mark_delivered",
    "mark_picked_up",
    "mark_ready",
    "post_driver_position",
    "record_event",
    "register_driver",
    "set_driver_status",
    "trail",
]

DRIVER_STATUSES = ("OFF_DUTY", "AVAILABLE", "ON_DELIVERY", "RETURNING")
SETTABLE_DRIVER_STATUSES = ("OFF_DUTY", "AVAILABLE", "RETURNING")
MAX_TRAIL_POINTS = 500


@dataclass(slots=True)
class PositionUpdate:
    """The result of a driver posting a position."""

    driver: Driver
    deliveries: list[Delivery]
    assignments: list[Assignment] = field(default_factory=list)


# --- events -----------------------------------------------------------------------------


async def record_event(*, session: AsyncSession, event_id: str, event_type: str) -> bool:
    """Remember an event as handled; False when it was handled before (a redelivery)."""
    if await session.get(HandledEvent, event_id) is not None:
        return False
    session.add(HandledEvent(event_id=event_id, event_type=event_type, handled_at=utcnow()))
    await session.flush()
    return True


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


async def _release_driver(session: AsyncSession, driver: Driver, *, store_id: str) -> None:
    """After a delivery ends or moves away: AVAILABLE at the store, else RETURNING.

    A driver who is no longer active, or whose move to another store was waiting for
    their orders to end, goes OFF_DUTY instead (at the new store).
    """
    if await active_deliveries(session=session, driver_id=driver.id):
        return
    if not driver.active or driver.next_store_id:
        go_off_duty(driver)
        return
    store_point, _ = await locate_store(session=session, store_id=store_id)
    position = driver_position(driver)
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


# --- reads ------------------------------------------------------------------------------


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


async def trail(*, session: AsyncSession, delivery_id: str, last: int) -> list[TrailPoint]:
    """The last ``last`` positions of a delivery, oldest first."""
    rows = await session.scalars(
        select(TrailPoint)
        .where(TrailPoint.delivery_id == delivery_id)
        .order_by(TrailPoint.id.desc())
        .limit(min(max(last, 0), MAX_TRAIL_POINTS))
    )
    return list(reversed(list(rows)))


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
    if await active_deliveries(session=session, driver_id=driver.id):
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
        store_point, _ = await locate_store(session=session, store_id=driver.store_id)
        if store_point and haversine_meters(Point(lat, lng), store_point) <= AT_STORE_METERS:
            driver.status = "AVAILABLE"
            driver.available_since = now
            await session.flush()
            update.assignments = await dispatch_waiting(
                session=session, store_id=driver.store_id, positions=positions
            )
    for delivery in await active_deliveries(session=session, driver_id=driver.id):
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
    carrying = await active_deliveries(session=session, driver_id=driver.id)
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
    assignment = await assign_delivery(session=session, delivery=delivery, driver=driver)
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
