"""GraphQL schema of the delivery subgraph: ``Driver`` (owner), ``Delivery`` on ``Order``.

Thin: resolvers check the caller, call ``service`` and map rows to types.
Extends ``Order`` (``delivery``) and ``Store`` (``drivers``) as id-only stubs.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry
from strawberry.federation.schema_directives import RequiresScopes
from strawberry.types import Info

from shared import live, outbox
from shared.auth import require_principal
from shared.errors import NotFound
from shared.gql_types import GeoPoint
from shared.subgraph import SubgraphContext, create_schema
from subgraphs.delivery import events, models, service
from subgraphs.delivery.positions import position_index

Ctx = Info[SubgraphContext, None]


@strawberry.enum(description="What a driver is doing.")
class DriverStatus(Enum):
    OFF_DUTY = strawberry.enum_value("OFF_DUTY", description="Not working; never dispatched.")
    AVAILABLE = strawberry.enum_value(
        "AVAILABLE", description="At the store, waiting for an order."
    )
    ON_DELIVERY = strawberry.enum_value(
        "ON_DELIVERY", description="Carrying one or more orders (set by dispatch)."
    )
    RETURNING = strawberry.enum_value(
        "RETURNING", description="Delivered everything, driving back to the store."
    )


@strawberry.enum(description="Where a delivery stands.")
class DeliveryStatus(Enum):
    PENDING = strawberry.enum_value(
        "PENDING", description="In the kitchen or waiting for a driver."
    )
    ASSIGNED = strawberry.enum_value("ASSIGNED", description="A driver will take it.")
    PICKED_UP = strawberry.enum_value("PICKED_UP", description="On the road with its driver.")
    DELIVERED = strawberry.enum_value("DELIVERED", description="Handed to the customer.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="The order was cancelled.")


@strawberry.type(description="A position a driver posted.")
class DriverPosition:
    location: GeoPoint = strawberry.field(description="Where the driver was.")
    heading: float | None = strawberry.field(description="Compass heading in degrees, 0 = north.")
    speed: float | None = strawberry.field(description="Speed in metres per second.")
    at: datetime = strawberry.field(description="When the position was taken.")
    eta: EtaRange | None = strawberry.field(
        default=None,
        description="Arrival range of the followed order (driverPosition only; null elsewhere).",
    )


@strawberry.type(description="When an order should arrive: a range of minutes from computedAt.")
class EtaRange:
    min_minutes: int = strawberry.field(description="Earliest arrival, minutes after computedAt.")
    max_minutes: int = strawberry.field(description="Latest arrival, minutes after computedAt.")
    computed_at: datetime = strawberry.field(description="When the range was computed.")


def _driver_position(row: models.Driver) -> DriverPosition | None:
    if row.lat is None or row.lng is None or row.position_at is None:
        return None
    return DriverPosition(
        location=GeoPoint(lat=row.lat, lng=row.lng),
        heading=row.heading,
        speed=row.speed,
        at=row.position_at,
    )


@strawberry.federation.type(keys=["id"], description="A store (owned by geo).")
class Store:
    id: strawberry.ID = strawberry.field(description="Opaque id of the store.")

    @strawberry.field(description="The store's drivers, by first name (its staff and admins).")
    async def drivers(self, info: Ctx) -> list[Driver]:
        if not service.is_staff_of(info.context.principal, str(self.id)):
            return []
        rows = await info.context.loaders.drivers_by_store.load(str(self.id))
        return [Driver.from_row(r) for r in rows]

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Store:
        return cls(id=id)


@strawberry.federation.type(
    keys=["id"], description="A driver of a store; the id is their user id."
)
class Driver:
    id: strawberry.ID = strawberry.field(description="Opaque id, the same as the driver's user id.")
    first_name: str = strawberry.field(description="First name, shown to customers.")
    status: DriverStatus = strawberry.field(description="What the driver is doing.")
    vehicle: str | None = strawberry.field(description="Vehicle, e.g. Scooter.")
    available_since: datetime | None = strawberry.field(
        description="Since when the driver has been AVAILABLE (dispatch favours the longest idle)."
    )
    _row: strawberry.Private[models.Driver]

    @strawberry.field(description="The store the driver works for.")
    def store(self) -> Store:
        return Store(id=strawberry.ID(self._row.store_id))

    @strawberry.field(description="Latest position; only the driver and their store's staff.")
    def last_position(self, info: Ctx) -> DriverPosition | None:
        if not service.can_see_position(info.context.principal, self._row):
            return None
        return _driver_position(self._row)

    @classmethod
    def from_row(cls, row: models.Driver) -> Driver:
        return cls(
            id=strawberry.ID(row.id),
            first_name=row.first_name,
            status=DriverStatus(row.status),
            vehicle=row.vehicle,
            available_since=row.available_since,
            _row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Ctx, id: strawberry.ID) -> Driver | None:
        row = await info.context.loaders.driver.load(str(id))
        return cls.from_row(row) if row else None


@strawberry.type(description="The delivery of an order: driver, position and ETA.")
class Delivery:
    id: strawberry.ID = strawberry.field(description="Opaque id of the delivery.")
    order_id: strawberry.ID = strawberry.field(description="The order delivered.")
    status: DeliveryStatus = strawberry.field(description="Where the delivery stands.")
    dropoff: GeoPoint = strawberry.field(description="Where the order goes.")
    placed_at: datetime = strawberry.field(description="When the order was placed.")
    ready_at: datetime | None = strawberry.field(description="When it left the kitchen.")
    assigned_at: datetime | None = strawberry.field(description="When a driver was assigned.")
    picked_up_at: datetime | None = strawberry.field(description="When the driver took it.")
    delivered_at: datetime | None = strawberry.field(description="When it was handed over.")
    cancelled_at: datetime | None = strawberry.field(description="When it was cancelled.")
    _row: strawberry.Private[models.Delivery]

    @strawberry.field(description="The driver carrying it, once assigned.")
    async def driver(self, info: Ctx) -> Driver | None:
        if self._row.driver_id is None:
            return None
        row = await info.context.loaders.driver.load(self._row.driver_id)
        return Driver.from_row(row) if row else None

    @strawberry.field(description="Arrival range, recomputed on every driver position.")
    def eta(self) -> EtaRange | None:
        row = self._row
        if row.eta_min_minutes is None or row.eta_max_minutes is None or not row.eta_computed_at:
            return None
        return EtaRange(
            min_minutes=row.eta_min_minutes,
            max_minutes=row.eta_max_minutes,
            computed_at=row.eta_computed_at,
        )

    @strawberry.field(description="The driver's latest position while the order is on its way.")
    async def position(self, info: Ctx) -> DriverPosition | None:
        if self._row.status not in service.ACTIVE_DELIVERY_STATUSES or not self._row.driver_id:
            return None
        row = await info.context.loaders.driver.load(self._row.driver_id)
        return _driver_position(row) if row else None

    @strawberry.field(description="Positions posted while carrying this order, oldest first.")
    async def trail(
        self,
        info: Ctx,
        last: Annotated[
            int, strawberry.argument(description="How many of the latest points, at most 500.")
        ] = 100,
    ) -> list[DriverPosition]:
        async with info.context.db.session() as session:
            points = await service.trail(session=session, delivery_id=self._row.id, last=last)
        return [
            DriverPosition(
                location=GeoPoint(lat=p.lat, lng=p.lng), heading=p.heading, speed=p.speed, at=p.at
            )
            for p in points
        ]

    @classmethod
    def from_row(cls, row: models.Delivery) -> Delivery:
        return cls(
            id=strawberry.ID(row.id),
            order_id=strawberry.ID(row.order_id),
            status=DeliveryStatus(row.status),
            dropoff=GeoPoint(lat=row.dropoff_lat, lng=row.dropoff_lng),
            placed_at=row.placed_at,
            ready_at=row.ready_at,
            assigned_at=row.assigned_at,
            picked_up_at=row.picked_up_at,
            delivered_at=row.delivered_at,
            cancelled_at=row.cancelled_at,
            _row=row,
        )


@strawberry.federation.type(keys=["id"], description="An order (owned by orders).")
class Order:
    id: strawberry.ID = strawberry.field(description="Opaque id of the order.")

    @strawberry.field(
        description="Its delivery (DELIVERY orders); only the customer, the driver and staff."
    )
    async def delivery(self, info: Ctx) -> Delivery | None:
        row = await info.context.loaders.delivery_by_order.load(str(self.id))
        if row is None or not service.can_track(info.context.principal, row):
            return None
        return Delivery.from_row(row)

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Order:
        return cls(id=id)


@strawberry.type(description="Delivery queries.")
class Query:
    @strawberry.field(
        description="Drivers of a store, or of every store for admins (staff).",
        directives=[RequiresScopes(scopes=[["store:manage"]])],
    )
    async def drivers(
        self,
        info: Ctx,
        store_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The store; staff default to their own."),
        ] = None,
    ) -> list[Driver]:
        async with info.context.db.session() as session:
            rows = await service.list_drivers(
                session=session,
                principal=info.context.principal,
                store_id=str(store_id) if store_id else None,
            )
        return [Driver.from_row(r) for r in rows]


@strawberry.input(description="A driver's new status.")
class SetDriverStatusInput:
    status: DriverStatus = strawberry.field(description="OFF_DUTY, AVAILABLE or RETURNING.")
    driver_id: strawberry.ID | None = strawberry.field(
        default=None, description="The driver (staff); omitted means the caller."
    )


@strawberry.input(description="Where the calling driver is now.")
class PostDriverPositionInput:
    lat: float = strawberry.field(description="Latitude in degrees, -90..90.")
    lng: float = strawberry.field(description="Longitude in degrees, -180..180.")
    heading: float | None = strawberry.field(
        default=None, description="Compass heading in degrees, [0, 360)."
    )
    speed: float | None = strawberry.field(default=None, description="Speed in metres per second.")


@strawberry.input(description="Give an order to a driver (staff).")
class AssignDriverInput:
    order_id: strawberry.ID = strawberry.field(description="The order to deliver.")
    driver_id: strawberry.ID = strawberry.field(description="The driver who takes it.")


@strawberry.input(description="The driver handed an order over.")
class CompleteDeliveryInput:
    order_id: strawberry.ID = strawberry.field(description="The order delivered.")


@strawberry.type(description="Result of setDriverStatus.")
class SetDriverStatusPayload:
    driver: Driver = strawberry.field(description="The driver with the new status.")


@strawberry.type(description="Result of postDriverPosition.")
class PostDriverPositionPayload:
    driver: Driver = strawberry.field(description="The driver, with the new position.")
    deliveries: list[Delivery] = strawberry.field(
        description="The deliveries the driver carries, with new ETA ranges."
    )


@strawberry.type(description="Result of assignDriver.")
class AssignDriverPayload:
    delivery: Delivery = strawberry.field(description="The delivery with its new driver.")


@strawberry.type(description="Result of completeDelivery.")
class CompleteDeliveryPayload:
    delivery: Delivery = strawberry.field(description="The delivered delivery.")


@strawberry.type(description="Delivery mutations: driver status, positions, dispatch.")
class Mutation:
    @strawberry.mutation(description="Go off duty, available or returning (driver or staff).")
    async def set_driver_status(
        self,
        info: Ctx,
        input: Annotated[
            SetDriverStatusInput,
            strawberry.argument(description="The new status and, for staff, which driver."),
        ],
    ) -> SetDriverStatusPayload:
        principal = require_principal(info.context.principal)
        async with outbox.session(db=info.context.db, bus=info.context.runtime.bus) as session:
            driver, assignments = await service.set_driver_status(
                session=session,
                principal=principal,
                driver_id=str(input.driver_id or principal.user_id),
                status=input.status.value,
                positions=position_index(info.context.runtime),
            )
            for assignment in assignments:
                await events.stage_driver_assigned(session, assignment)
            await session.commit()
        return SetDriverStatusPayload(driver=Driver.from_row(driver))

    @strawberry.mutation(description="Post the calling driver's position (every few seconds).")
    async def post_driver_position(
        self,
        info: Ctx,
        input: Annotated[
            PostDriverPositionInput,
            strawberry.argument(description="Where the calling driver is now."),
        ],
    ) -> PostDriverPositionPayload:
        principal = require_principal(info.context.principal)
        async with outbox.session(db=info.context.db, bus=info.context.runtime.bus) as session:
            update = await service.post_driver_position(
                session=session,
                principal=principal,
                lat=input.lat,
                lng=input.lng,
                heading=input.heading,
                speed=input.speed,
                positions=position_index(info.context.runtime),
            )
            for assignment in update.assignments:
                await events.stage_driver_assigned(session, assignment)
            for delivery in update.deliveries or [None]:
                await events.stage_position(session, update.driver, delivery)
            await session.commit()
            # Trackers first: the position is committed; the staged events follow on exit.
            await live.publish_live(
                info.context.runtime.settings,
                [
                    (live.driver_position_channel(d.order_id), _live_position(update.driver, d))
                    for d in update.deliveries
                ],
            )
        return PostDriverPositionPayload(
            driver=Driver.from_row(update.driver),
            deliveries=[Delivery.from_row(d) for d in update.deliveries],
        )

    @strawberry.mutation(description="Give an order to a driver of the store, or reassign it.")
    async def assign_driver(
        self,
        info: Ctx,
        input: Annotated[
            AssignDriverInput,
            strawberry.argument(description="The order and the driver who takes it."),
        ],
    ) -> AssignDriverPayload:
        principal = require_principal(info.context.principal)
        async with outbox.session(db=info.context.db, bus=info.context.runtime.bus) as session:
            delivery, driver, changed = await service.assign_driver(
                session=session,
                principal=principal,
                order_id=str(input.order_id),
                driver_id=str(input.driver_id),
            )
            if changed:
                await events.stage_driver_assigned(
                    session, service.Assignment(delivery=delivery, driver=driver)
                )
            await session.commit()
        return AssignDriverPayload(delivery=Delivery.from_row(delivery))

    @strawberry.mutation(description="The calling driver handed the order to the customer.")
    async def complete_delivery(
        self,
        info: Ctx,
        input: Annotated[
            CompleteDeliveryInput, strawberry.argument(description="The order handed over.")
        ],
    ) -> CompleteDeliveryPayload:
        principal = require_principal(info.context.principal)
        async with outbox.session(db=info.context.db, bus=info.context.runtime.bus) as session:
            delivery = await service.complete_delivery(
                session=session, principal=principal, order_id=str(input.order_id)
            )
            await events.stage_delivery_completed(session, delivery)
            await session.commit()
        return CompleteDeliveryPayload(delivery=Delivery.from_row(delivery))


def _live_position(driver: models.Driver, delivery: models.Delivery) -> dict[str, Any]:
    """What ``driverPosition`` subscribers receive: the position and the order's new ETA."""
    eta = None
    if delivery.eta_min_minutes is not None and delivery.eta_computed_at is not None:
        eta = {
            "min": delivery.eta_min_minutes,
            "max": delivery.eta_max_minutes,
            "computedAt": delivery.eta_computed_at.isoformat(),
        }
    return {
        "lat": driver.lat,
        "lng": driver.lng,
        "heading": driver.heading,
        "speed": driver.speed,
        "at": driver.position_at.isoformat() if driver.position_at else None,
        "eta": eta,
    }


def _position_from_live(update: dict[str, Any]) -> DriverPosition:
    eta = update.get("eta")
    return DriverPosition(
        location=GeoPoint(lat=update["lat"], lng=update["lng"]),
        heading=update.get("heading"),
        speed=update.get("speed"),
        at=datetime.fromisoformat(update["at"]),
        eta=EtaRange(
            min_minutes=eta["min"],
            max_minutes=eta["max"],
            computed_at=datetime.fromisoformat(eta["computedAt"]),
        )
        if eta
        else None,
    )


@strawberry.type(description="Live delivery tracking.")
class Subscription:
    @strawberry.subscription(
        description="The position of the driver carrying an order, with its ETA, as the driver "
        "posts it (the customer, the driver, staff of the store); the latest position wins "
        "for slow clients; ends when the order is delivered or cancelled."
    )
    async def driver_position(
        self,
        info: Ctx,
        order_id: Annotated[strawberry.ID, strawberry.argument(description="The order.")],
    ) -> AsyncGenerator[DriverPosition, None]:
        context = info.context
        principal = require_principal(context.principal)
        hub = live.live_hub(context.runtime.settings)
        channel = live.driver_position_channel(str(order_id))
        async with hub.subscribe(channel, buffer=1) as updates:
            async with context.db.session() as session:
                delivery = await service.get_delivery_by_order(
                    session=session, order_id=str(order_id)
                )
                if delivery is None or not service.can_track(principal, delivery):
                    raise NotFound(f"No delivery of yours is for order {order_id!r}.")
                if delivery.status in ("DELIVERED", "CANCELLED"):
                    return
                driver = (
                    await session.get(models.Driver, delivery.driver_id)
                    if delivery.driver_id
                    else None
                )
            if driver is not None and driver.position_at is not None:
                yield _position_from_live(_live_position(driver, delivery))
            async for update in updates:
                if update.get("final"):
                    return
                yield _position_from_live(update)


schema = create_schema(
    query=Query, mutation=Mutation, subscription=Subscription, types=(Driver, Order, Store)
)
