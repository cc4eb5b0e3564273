"""What delivery consumes and publishes.

Consumes ``OrderPlaced`` and ``OrderStatusChanged`` (orders) and ``UserRegistered``,
``UserRolesChanged``, ``UserDeactivated`` and ``UserReactivated`` (users). Publishes
``DriverAssigned``, ``DeliveryCompleted`` and ``DriverPositionUpdated`` through the
outbox: staged in the transaction that caused them, published once it committed.
Consumers are idempotent by event id: the handled id is recorded in the same
transaction as the change (and as the events it causes).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared import live, outbox
from shared.bus import Event
from shared.subgraph import SubgraphRuntime
from subgraphs.delivery import service
from subgraphs.delivery.accounts import account_directory
from subgraphs.delivery.models import Delivery, Driver
from subgraphs.delivery.positions import position_index

log = logging.getLogger(__name__)

SOURCE = "delivery"
GROUP = "delivery"


async def stage_driver_assigned(session: AsyncSession, assignment: service.Assignment) -> None:
    """An order has a driver (orders moves it OUT_FOR_DELIVERY; notifications tells the customer)."""
    delivery = assignment.delivery
    await outbox.stage(
        session,
        Event(
            type="DriverAssigned",
            source=SOURCE,
            payload={
                "orderId": delivery.order_id,
                "driverId": assignment.driver.id,
                "customerId": delivery.customer_id,
                "storeId": delivery.store_id,
            },
        ),
    )


async def stage_delivery_completed(session: AsyncSession, delivery: Delivery) -> None:
    """The driver handed the order over (orders marks it DELIVERED)."""
    at = delivery.delivered_at
    await outbox.stage(
        session,
        Event(
            type="DeliveryCompleted",
            source=SOURCE,
            payload={
                "orderId": delivery.order_id,
                "driverId": delivery.driver_id,
                "at": at.isoformat() if at else None,
            },
        ),
    )


async def stage_position(session: AsyncSession, driver: Driver, delivery: Delivery | None) -> None:
    """Where a driver is now, and the new ETA of the order they carry (live tracking)."""
    eta = None
    if delivery is not None and delivery.eta_min_minutes is not None:
        eta = {"min": delivery.eta_min_minutes, "max": delivery.eta_max_minutes}
    await outbox.stage(
        session,
        Event(
            type="DriverPositionUpdated",
            source=SOURCE,
            payload={
                "orderId": delivery.order_id if delivery else None,
                "driverId": driver.id,
                "lat": driver.lat,
                "lng": driver.lng,
                "heading": driver.heading,
                "speed": driver.speed,
                "at": driver.position_at.isoformat() if driver.position_at else None,
                "eta": eta,
            },
        ),
    )


def _timestamp(raw: object) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


STAGES_NEEDING_A_DELIVERY = frozenset(
    {"QUALITY_CHECK", "OUT_FOR_DELIVERY", "DELIVERED", "CANCELLED", "REFUNDED"}
)


ACCOUNT_EVENTS = ("UserRolesChanged", "UserDeactivated", "UserReactivated")
"""users' account changes, each carrying the account as it is after the change."""


def _log_account_change(event: Event, change: service.AccountChange) -> None:
    driver = change.driver
    if driver is None:
        return
    if change.stale:
        log.info(
            "%s %s for driver %s is older than the last change; ignored",
            event.type,
            event.id,
            driver.id,
        )
        return
    orders = ", ".join(d.order_id for d in change.carrying)
    if change.carrying and not driver.active:
        log.warning(
            "driver %s is no longer an active driver (%s) but carries orders %s: they stay "
            "assigned until delivered or reassigned by staff; no new orders go to them",
            driver.id,
            event.type,
            orders,
        )
    elif change.carrying and driver.next_store_id:
        log.info(
            "driver %s moves to store %s once orders %s are done",
            driver.id,
            driver.next_store_id,
            orders,
        )


class DeliveryNotKnownYet(RuntimeError):
    """A stage change of a DELIVERY order whose OrderPlaced was not handled yet (retried)."""


async def _new_driver(runtime: SubgraphRuntime, payload: dict[str, Any]) -> tuple[str, str] | None:
    """First name and store of the DRIVER a ``UserRegistered`` announces; None otherwise.

    Events from before users added ``storeId`` have no store: then users is asked
    (``accounts``), and an account users no longer has as an active DRIVER by then is not
    added. An account the event itself says is inactive is not added either.
    """
    if "DRIVER" not in (payload.get("roles") or ()) or payload.get("active") is False:
        return None
    user_id = str(payload["userId"])
    first_name = service.first_name_of(str(payload.get("name") or ""))
    store_id = payload.get("storeId")
    if not store_id:
        account = await account_directory(runtime).get(user_id)
        if account is None or not account.store_id:
            log.warning("driver %s has no store in users; not added to delivery", user_id)
            return None
        if not account.active or "DRIVER" not in account.roles:
            return None
        first_name, store_id = account.first_name or first_name, account.store_id
    return first_name, str(store_id)


def register_consumers(runtime: SubgraphRuntime) -> None:
    """Create deliveries for DELIVERY orders; dispatch, pick up, finish or cancel them.

    Also keeps drivers in line with their accounts in users: adds the drivers admins
    create (``UserRegistered`` with role DRIVER), and adds, moves, retires or brings back
    drivers on ``UserRolesChanged``, ``UserDeactivated`` and ``UserReactivated``
    (:func:`service.apply_account_change`).
    """

    async def on_order_placed(event: Event) -> None:
        payload = event.payload
        location = payload.get("deliveryLocation")
        async with runtime.db.session() as session:
            if not await service.record_event(
                session=session, event_id=event.id, event_type=event.type
            ):
                return
            if payload.get("serviceMethod") == "DELIVERY" and location:
                await service.create_delivery(
                    session=session,
                    order_id=payload["orderId"],
                    customer_id=payload["customerId"],
                    store_id=payload["storeId"],
                    dropoff=service.Point(float(location["lat"]), float(location["lng"])),
                    placed_at=_timestamp(payload.get("placedAt")),
                )
            await session.commit()

    async def on_order_status_changed(event: Event) -> None:
        order_id, to = event.payload["orderId"], event.payload.get("to")
        assignment = None
        async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
            if not await service.record_event(
                session=session, event_id=event.id, event_type=event.type
            ):
                return
            if (
                event.payload.get("serviceMethod") == "DELIVERY"
                and to in STAGES_NEEDING_A_DELIVERY
                and await service.get_delivery_by_order(session=session, order_id=order_id) is None
            ):
                # Redis Streams keeps one stream per event type, so this change may arrive
                # before the order's OrderPlaced: fail, so the bus delivers it again later.
                raise DeliveryNotKnownYet(order_id)
            if to == "QUALITY_CHECK":
                assignment = await service.mark_ready(
                    session=session, order_id=order_id, positions=position_index(runtime)
                )
            elif to == "OUT_FOR_DELIVERY":
                await service.mark_picked_up(session=session, order_id=order_id)
            elif to == "DELIVERED":
                await service.mark_delivered(session=session, order_id=order_id)
            elif to in ("CANCELLED", "REFUNDED"):
                await service.cancel_delivery(session=session, order_id=order_id)
            if assignment is not None:
                await stage_driver_assigned(session, assignment)
            await session.commit()
        if to in ("DELIVERED", "CANCELLED", "REFUNDED"):  # ends driverPosition streams
            await live.publish_live(
                runtime.settings, [(live.driver_position_channel(order_id), {"final": True})]
            )
        if assignment is None and to == "QUALITY_CHECK":
            log.info("order %s is ready but no driver can take it yet", order_id)

    async def on_user_registered(event: Event) -> None:
        # Before the transaction: this may ask users over HTTP.
        driver = await _new_driver(runtime, event.payload)
        if driver is None:
            return
        first_name, store_id = driver
        async with runtime.db.session() as session:
            if not await service.record_event(
                session=session, event_id=event.id, event_type=event.type
            ):
                return
            await service.register_driver(
                session=session,
                driver_id=str(event.payload["userId"]),
                first_name=first_name,
                store_id=store_id,
                changed_at=_timestamp(event.occurred_at),
            )
            await session.commit()

    async def on_account_changed(event: Event) -> None:
        payload = event.payload
        async with runtime.db.session() as session:
            if not await service.record_event(
                session=session, event_id=event.id, event_type=event.type
            ):
                return
            change = await service.apply_account_change(
                session=session,
                driver_id=str(payload["userId"]),
                first_name=service.first_name_of(str(payload.get("name") or "")),
                roles=frozenset(payload.get("roles") or ()),
                store_id=payload.get("storeId") or None,
                active=bool(payload.get("active", event.type != "UserDeactivated")),
                changed_at=_timestamp(event.occurred_at),
            )
            await session.commit()
        _log_account_change(event, change)

    runtime.bus.subscribe(group=GROUP, types=["OrderPlaced"], handler=on_order_placed)
    runtime.bus.subscribe(group=GROUP, types=["UserRegistered"], handler=on_user_registered)
    runtime.bus.subscribe(group=GROUP, types=ACCOUNT_EVENTS, handler=on_account_changed)
    runtime.bus.subscribe(
        group=GROUP, types=["OrderStatusChanged"], handler=on_order_status_changed
    )
