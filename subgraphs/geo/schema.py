"""GraphQL schema of the geo subgraph: ``Store`` (entity owner), locator, geocoding, quotes.

Thin: resolvers check input shape, call ``service`` and map rows to types.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from shared.db import utcnow
from shared.gql_types import GeoPoint, GeoPointInput, Money, ServiceMethod
from shared.subgraph import SubgraphContext, create_schema
from subgraphs.geo import geocoding, models, service
from subgraphs.geo.geometry import Point

GEOCODER = "geocoder"
"""Key of the :class:`~subgraphs.geo.geocoding.GeocodingProvider` in ``runtime.extras``."""

GeoInfo = Info[SubgraphContext, None]


def _geocoder(info: GeoInfo) -> geocoding.GeocodingProvider:
    return info.context.runtime.extras.get(GEOCODER) or geocoding.default_gazetteer()


def _point(value: GeoPointInput) -> Point:
    return Point(value.lat, value.lng)


def _geo_point(point: Point) -> GeoPoint:
    return GeoPoint(lat=point.lat, lng=point.lng)


@strawberry.enum(description="Day of the week, in the store's time zone.")
class Weekday(Enum):
    MONDAY = strawberry.enum_value(0, description="Monday.")
    TUESDAY = strawberry.enum_value(1, description="Tuesday.")
    WEDNESDAY = strawberry.enum_value(2, description="Wednesday.")
    THURSDAY = strawberry.enum_value(3, description="Thursday.")
    FRIDAY = strawberry.enum_value(4, description="Friday.")
    SATURDAY = strawberry.enum_value(5, description="Saturday.")
    SUNDAY = strawberry.enum_value(6, description="Sunday.")


@strawberry.enum(description="The shape of a delivery zone.")
class DeliveryZoneKind(Enum):
    POLYGON = strawberry.enum_value("POLYGON", description="An area drawn as a polygon.")
    RADIUS = strawberry.enum_value("RADIUS", description="A circle around the store.")


@strawberry.federation.type(
    shareable=True, description="An estimated wait, in minutes, from now until the order arrives."
)
class WaitRange:
    min_minutes: int = strawberry.field(description="Shortest expected wait in minutes.")
    max_minutes: int = strawberry.field(description="Longest expected wait in minutes.")

    @classmethod
    def of(cls, value: service.WaitRange) -> WaitRange:
        return cls(min_minutes=value.min_minutes, max_minutes=value.max_minutes)


@strawberry.type(description="The postal address of a store.")
class StoreAddress:
    line1: str = strawberry.field(description="Street and number.")
    city: str = strawberry.field(description="City.")
    postcode: str = strawberry.field(description="Postal code.")


@strawberry.type(description="One serving period of a store, in the store's local time.")
class OpeningHours:
    service_method: ServiceMethod = strawberry.field(description="The service this period is for.")
    weekday: Weekday = strawberry.field(description="The day the period starts on.")
    opens: time = strawberry.field(description="Opening time, local wall clock.")
    closes: time = strawberry.field(
        description="Closing time, local wall clock; at or before `opens` means the next day."
    )
    crosses_midnight: bool = strawberry.field(
        description="True when the period ends on the following day."
    )


@strawberry.type(description="A date on which the store stays closed.")
class HolidayClosure:
    date: date = strawberry.field(description="The local date of the closure.")
    name: str = strawberry.field(description="Why, e.g. Christmas Day.")


@strawberry.type(description="Where a store delivers.")
class DeliveryZone:
    kind: DeliveryZoneKind = strawberry.field(description="Polygon or radius.")
    polygon: list[GeoPoint] | None = strawberry.field(
        description="Vertices of the area, in order (POLYGON zones)."
    )
    radius_meters: int | None = strawberry.field(
        description="Radius around the store in metres (RADIUS zones)."
    )


MethodArg = Annotated[
    ServiceMethod, strawberry.argument(description="The service method asked about.")
]
AtArg = Annotated[
    datetime | None, strawberry.argument(description="The moment asked about; default now.")
]


@strawberry.federation.type(keys=["id"], description="A pizza store of the chain.")
class Store:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    name: str = strawberry.field(description="Display name, e.g. Downtown.")
    phone: str = strawberry.field(description="Phone number of the store.")
    address: StoreAddress = strawberry.field(description="Postal address.")
    location: GeoPoint = strawberry.field(description="Coordinates of the store.")
    time_zone: str = strawberry.field(
        description="IANA time zone of the store, e.g. America/Chicago."
    )
    force_closed: bool = strawberry.field(
        description="Closed by staff regardless of the opening hours."
    )
    minimum_delivery_order: Money = strawberry.field(
        description="Smallest items subtotal accepted for delivery."
    )
    delivery_fee: Money = strawberry.field(description="Fee charged on delivery orders.")
    delivery_zone: DeliveryZone = strawberry.field(description="Where the store delivers.")
    accepted_payment_methods: list[str] = strawberry.field(
        description="Payment methods the store takes: CARD, CASH, GIFT_CARD."
    )
    tipping_allowed: bool = strawberry.field(description="Whether customers may add a tip.")
    tax_rate_basis_points: int = strawberry.field(
        description="Sales tax rate in basis points (825 = 8.25%)."
    )
    holiday_closures: list[HolidayClosure] = strawberry.field(
        description="Dates on which the store stays closed, earliest first."
    )
    _row: strawberry.Private[models.Store]

    @strawberry.field(description="Serving periods per service method and weekday.")
    def opening_hours(
        self,
        service_method: Annotated[
            ServiceMethod | None,
            strawberry.argument(description="Only periods of this service method."),
        ] = None,
    ) -> list[OpeningHours]:
        return [
            OpeningHours(
                service_method=ServiceMethod(h.service_method),
                weekday=Weekday(h.weekday),
                opens=h.opens,
                closes=h.closes,
                crosses_midnight=h.crosses_midnight,
            )
            for h in self._row.hours
            if service_method is None or h.service_method == service_method.value
        ]

    @strawberry.field(description="Whether the store serves this method at the given moment.")
    def is_open(self, service_method: MethodArg = ServiceMethod.DELIVERY, at: AtArg = None) -> bool:
        return service.is_open(
            store=self._row, service_method=service_method.value, at=at or utcnow()
        )

    @strawberry.field(description="The current estimated wait range of a service method.")
    def wait_time(self, service_method: MethodArg = ServiceMethod.DELIVERY) -> WaitRange:
        return WaitRange.of(service.wait_time(store=self._row, service_method=service_method.value))

    @classmethod
    def from_row(cls, row: models.Store) -> Store:
        polygon = row.polygon
        return cls(
            _row=row,
            id=strawberry.ID(row.id),
            name=row.name,
            phone=row.phone,
            address=StoreAddress(line1=row.line1, city=row.city, postcode=row.postcode),
            location=_geo_point(row.location),
            time_zone=row.time_zone,
            force_closed=row.force_closed,
            minimum_delivery_order=Money(amount=row.minimum_delivery_order, currency=row.currency),
            delivery_fee=Money(amount=row.delivery_fee, currency=row.currency),
            delivery_zone=DeliveryZone(
                kind=DeliveryZoneKind.POLYGON if polygon is not None else DeliveryZoneKind.RADIUS,
                polygon=[_geo_point(p) for p in polygon] if polygon is not None else None,
                radius_meters=row.zone_radius_meters,
            ),
            accepted_payment_methods=row.payment_methods,
            tipping_allowed=row.tipping_allowed,
            tax_rate_basis_points=row.tax_rate_basis_points,
            holiday_closures=[HolidayClosure(date=h.day, name=h.name) for h in row.holidays],
        )

    @classmethod
    async def resolve_reference(cls, info: GeoInfo, id: strawberry.ID) -> Store | None:
        row = await info.context.loaders.store.load(str(id))
        return cls.from_row(row) if row else None


@strawberry.type(description="A store found by the locator, with how it can serve the place.")
class StoreDistance:
    store: Store = strawberry.field(description="The store.")
    distance_meters: int = strawberry.field(
        description="Estimated distance by road from the place to the store, in metres."
    )
    can_serve: bool = strawberry.field(
        description="DELIVERY: the place is inside the delivery zone; CARRYOUT: within 25 km."
    )
    is_open: bool = strawberry.field(
        description="Whether the store serves this method at the moment asked (default now)."
    )
    wait_time: WaitRange = strawberry.field(description="Current estimated wait for this method.")


@strawberry.type(description="A place an address query resolved to.")
class GeocodeResult:
    label: str = strawberry.field(description="One-line address to show, with city and postcode.")
    line1: str | None = strawberry.field(
        description="Street and number; null when only the postcode area is known."
    )
    city: str = strawberry.field(description="City.")
    postcode: str = strawberry.field(description="Postal code.")
    location: GeoPoint = strawberry.field(description="Coordinates of the place.")
    confidence: float = strawberry.field(
        description="How sure the match is, 0..1 (1: exact address; below 0.5: postcode area)."
    )

    @classmethod
    def of(cls, result: geocoding.GeocodeResult) -> GeocodeResult:
        return cls(
            label=result.label,
            line1=result.line1,
            city=result.city,
            postcode=result.postcode,
            location=_geo_point(result.location),
            confidence=result.confidence,
        )


@strawberry.type(description="Whether and on what terms a store serves a place.")
class DeliveryQuote:
    store_id: strawberry.ID = strawberry.field(description="The store quoted.")
    can_serve: bool = strawberry.field(
        description="The store can serve the place by the method (zone, carryout distance)."
    )
    reason_code: str | None = strawberry.field(
        description="Why not, as a code: OUT_OF_ZONE, TOO_FAR, LOCATION_REQUIRED, "
        "SERVICE_NOT_OFFERED; null when it can."
    )
    reason: str | None = strawberry.field(description="Why not, for humans; null when it can.")
    is_open: bool = strawberry.field(
        description="Whether the store serves this method at the moment asked (default now)."
    )
    closed_reason: str | None = strawberry.field(
        description="Why it is closed: FORCE_CLOSED, HOLIDAY, OUTSIDE_HOURS; null when open."
    )
    distance_meters: int | None = strawberry.field(
        description="Estimated road distance in metres; null without a location."
    )
    delivery_fee: Money = strawberry.field(description="Delivery fee; zero for CARRYOUT.")
    minimum_order: Money = strawberry.field(
        description="Smallest items subtotal accepted; zero for CARRYOUT."
    )
    tax_rate_basis_points: int = strawberry.field(
        description="Sales tax rate in basis points (825 = 8.25%)."
    )
    wait_time: WaitRange = strawberry.field(description="Current estimated wait for this method.")
    time_zone: str = strawberry.field(description="IANA time zone of the store.")

    @classmethod
    def of(cls, quote: service.DeliveryQuote) -> DeliveryQuote:
        return cls(
            store_id=strawberry.ID(quote.store_id),
            can_serve=quote.can_serve,
            reason_code=quote.reason_code,
            reason=quote.reason,
            is_open=quote.is_open,
            closed_reason=quote.closed_reason,
            distance_meters=quote.distance_meters,
            delivery_fee=Money(
                amount=quote.delivery_fee.amount, currency=quote.delivery_fee.currency
            ),
            minimum_order=Money(
                amount=quote.minimum_order.amount, currency=quote.minimum_order.currency
            ),
            tax_rate_basis_points=quote.tax_rate_basis_points,
            wait_time=WaitRange.of(quote.wait_time),
            time_zone=quote.time_zone,
        )


@strawberry.input(description="A street address to search from.")
class AddressInput:
    line1: str = strawberry.field(description="Street and number, e.g. 1100 Congress Ave.")
    city: str = strawberry.field(description="City.")
    postcode: str | None = strawberry.field(default=None, description="Postal code, if known.")


@strawberry.type
class Query:
    @strawberry.field(description="A store by id; null when there is none.")
    async def store(
        self,
        info: GeoInfo,
        id: Annotated[strawberry.ID, strawberry.argument(description="Store id.")],
    ) -> Store | None:
        row = await info.context.loaders.store.load(str(id))
        return Store.from_row(row) if row else None

    @strawberry.field(description="Every store of the chain, by name.")
    async def stores(self, info: GeoInfo) -> list[Store]:
        async with info.context.db.session() as session:
            return [Store.from_row(s) for s in await service.list_stores(session=session)]

    @strawberry.field(
        description="Stores near an address or a location, nearest first (within 50 km by road)."
    )
    async def stores_near(
        self,
        info: GeoInfo,
        service_method: Annotated[
            ServiceMethod, strawberry.argument(description="How the customer wants the order.")
        ],
        address: Annotated[
            AddressInput | None,
            strawberry.argument(description="Search from this address (or give location)."),
        ] = None,
        location: Annotated[
            GeoPointInput | None,
            strawberry.argument(description="Search from these coordinates (or give address)."),
        ] = None,
        at: AtArg = None,
    ) -> list[StoreDistance]:
        async with info.context.db.session() as session:
            answers = await service.stores_near(
                session=session,
                geocoder=_geocoder(info),
                service_method=service_method.value,
                at=at or utcnow(),
                address=service.AddressQuery(
                    line1=address.line1, city=address.city, postcode=address.postcode
                )
                if address
                else None,
                location=_point(location) if location else None,
            )
        return [
            StoreDistance(
                store=Store.from_row(a.store),
                distance_meters=a.distance_meters,
                can_serve=a.can_serve,
                is_open=a.is_open,
                wait_time=WaitRange.of(a.wait_time),
            )
            for a in answers
        ]

    @strawberry.field(description="Addresses matching a typed query, best first (at most 5).")
    async def geocode(
        self,
        info: GeoInfo,
        query: Annotated[
            str, strawberry.argument(description="Free text, e.g. 1100 Congress Ave, Austin 78701.")
        ],
    ) -> list[GeocodeResult]:
        results = await service.geocode(geocoder=_geocoder(info), query=query)
        return [GeocodeResult.of(r) for r in results]

    @strawberry.field(description="The nearest known address (or postcode area) to a point.")
    async def reverse_geocode(
        self,
        info: GeoInfo,
        location: Annotated[GeoPointInput, strawberry.argument(description="The point.")],
    ) -> GeocodeResult | None:
        result = await service.reverse_geocode(geocoder=_geocoder(info), point=_point(location))
        return GeocodeResult.of(result) if result else None

    @strawberry.field(
        description="Whether and on what terms a store serves a place (used by orders and carts). "
        "Out of zone is an answer (canServe false), not an error."
    )
    async def delivery_quote(
        self,
        info: GeoInfo,
        store_id: Annotated[strawberry.ID, strawberry.argument(description="The store.")],
        service_method: MethodArg,
        location: Annotated[
            GeoPointInput | None,
            strawberry.argument(description="Where to deliver; needed for DELIVERY."),
        ] = None,
        at: AtArg = None,
    ) -> DeliveryQuote:
        async with info.context.db.session() as session:
            quote = await service.delivery_quote(
                session=session,
                store_id=str(store_id),
                service_method=service_method.value,
                at=at or utcnow(),
                location=_point(location) if location else None,
            )
        return DeliveryQuote.of(quote)


@strawberry.input(description="A wait range in minutes.")
class WaitRangeInput:
    min_minutes: int = strawberry.field(description="Shortest expected wait, 0 or more.")
    max_minutes: int = strawberry.field(description="Longest expected wait, at most 240.")


@strawberry.input(description="An amount of money in minor units.")
class MoneyInput:
    amount: int = strawberry.field(description="Amount in minor units (cents), 0 or more.")
    currency: str = strawberry.field(description="ISO 4217 code; must be the store's currency.")


@strawberry.input(description="Operational settings of a store; omitted fields stay as they are.")
class UpdateStoreSettingsInput:
    store_id: strawberry.ID = strawberry.field(description="The store to change.")
    force_closed: bool | None = strawberry.field(
        default=None, description="Close the store now regardless of its hours, or reopen it."
    )
    delivery_wait: WaitRangeInput | None = strawberry.field(
        default=None, description="New estimated wait range for delivery."
    )
    carryout_wait: WaitRangeInput | None = strawberry.field(
        default=None, description="New estimated wait range for carryout."
    )
    delivery_fee: MoneyInput | None = strawberry.field(
        default=None, description="New delivery fee."
    )
    minimum_delivery_order: MoneyInput | None = strawberry.field(
        default=None, description="New minimum items subtotal for delivery."
    )


@strawberry.type(description="Result of updateStoreSettings.")
class UpdateStoreSettingsPayload:
    store: Store = strawberry.field(description="The store with its new settings.")


def _wait(value: WaitRangeInput | None) -> service.WaitRange | None:
    return service.WaitRange(value.min_minutes, value.max_minutes) if value else None


def _amount(value: MoneyInput | None) -> service.Amount | None:
    return service.Amount(value.amount, value.currency.strip().upper()) if value else None


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Change a store's force-closed switch, wait ranges, delivery fee or "
        "minimum order (admins, or staff of that store)."
    )
    async def update_store_settings(
        self,
        info: GeoInfo,
        input: Annotated[
            UpdateStoreSettingsInput, strawberry.argument(description="The store and its changes.")
        ],
    ) -> UpdateStoreSettingsPayload:
        async with info.context.db.session() as session:
            store = await service.update_store_settings(
                session=session,
                principal=info.context.principal,
                store_id=str(input.store_id),
                force_closed=input.force_closed,
                delivery_wait=_wait(input.delivery_wait),
                carryout_wait=_wait(input.carryout_wait),
                delivery_fee=_amount(input.delivery_fee),
                minimum_delivery_order=_amount(input.minimum_delivery_order),
            )
            await session.commit()
        return UpdateStoreSettingsPayload(store=Store.from_row(store))


schema = create_schema(query=Query, mutation=Mutation, types=(Store,))
