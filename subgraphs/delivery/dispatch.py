"""Dispatch: which driver of the store takes a ready order, and giving it to them.

The pure rules (:func:`can_take`, :func:`choose_driver`) take plain values so they can be
tested alone; :func:`dispatch` and :func:`dispatch_waiting` apply them to the store's
drivers in a SQLAlchemy session (rows locked), with positions from the spatial index
(:mod:`subgraphs.delivery.positions`) when there is one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import utcnow
from subgraphs.delivery.eta import (
    Point,
    angle_between,
    bearing_degrees,
    driver_position,
    dropoff_of,
    haversine_meters,
    locate_store,
    refresh_eta,
)
from subgraphs.delivery.models import ACTIVE_DELIVERY_STATUSES, Delivery, Driver

if TYPE_CHECKING:
    from subgraphs.delivery.positions import PositionIndex

MAX_ORDERS_PER_DRIVER = 2
"""A driver may carry up to this many orders at once when they go the same way."""
SAME_WAY_DEGREES = 45.0
"""Two drop-offs go "the same way" when their bearings from the store differ by at most this."""
AT_STORE_METERS = 150.0
"""A driver this close to the store is at the store (can load more orders; is back)."""
DISTANCE_TIE_METERS = 100.0
"""Drivers whose distances to the store differ by less than this are equally near."""


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


# --- choosing a driver ------------------------------------------------------------------


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


# --- dispatching ------------------------------------------------------------------------


async def active_deliveries(*, session: AsyncSession, driver_id: str) -> list[Delivery]:
    """The deliveries the driver carries (ASSIGNED or PICKED_UP), in the order given to them."""
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
        carrying = tuple(
            dropoff_of(d) for d in await active_deliveries(session=session, driver_id=driver.id)
        )
        candidates.append(
            DriverCandidate(
                driver_id=driver.id,
                status=driver.status,
                position=indexed.get(driver.id) or driver_position(driver),
                available_since=driver.available_since,
                carrying=carrying,
            )
        )
    return drivers, candidates


async def assign_delivery(
    *, session: AsyncSession, delivery: Delivery, driver: Driver
) -> Assignment:
    """Give the delivery to the driver: ASSIGNED, the driver ON_DELIVERY, its ETA refreshed."""
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
    store_point, _ = await locate_store(session=session, store_id=delivery.store_id)
    drivers, candidates = await _candidates(
        session, delivery.store_id, store=store_point, positions=positions
    )
    best = choose_driver(candidates=candidates, store=store_point, dropoff=dropoff_of(delivery))
    if best is None:
        return None
    driver = next(d for d in drivers if d.id == best.driver_id)
    return await assign_delivery(session=session, delivery=delivery, driver=driver)


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
