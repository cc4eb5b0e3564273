"""Geo's rules: opening hours, delivery zones, the store locator, quotes and settings.

Plain functions with keyword-only arguments over SQLAlchemy sessions and
:class:`~subgraphs.geo.models.Store` rows; no GraphQL here. Service methods are
the strings ``DELIVERY`` and ``CARRYOUT``. They raise
:class:`shared.errors.DomainError` subclasses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, require_role
from shared.errors import DomainError, Forbidden, NotFound
from subgraphs.geo.geocoding import GeocodeResult, GeocodingProvider
from subgraphs.geo.geometry import (
    Point,
    is_valid_point,
    point_in_polygon,
    road_distance_meters,
    within_radius,
)
from subgraphs.geo.models import Store

SERVICE_METHODS = ("DELIVERY", "CARRYOUT")
PAYMENT_METHODS = ("CARD", "CASH", "GIFT_CARD")
CARRYOUT_RADIUS_METERS = 25_000
"""A store offers carryout to customers within this road distance."""
SEARCH_RADIUS_METERS = 50_000
"""The locator lists stores within this road distance (beyond, nobody drives for pizza)."""
MAX_WAIT_MINUTES = 240
MAX_DELIVERY_FEE = 5_000
"""Upper bound of a delivery fee in minor units: catches a fee typed in cents twice."""
MAX_MINIMUM_ORDER = 20_000
MAX_QUERY_LENGTH = 200
METERS_PER_DEGREE_LAT = 111_320.0

# Why a store cannot serve a place (DeliveryQuote.reasonCode).
OUT_OF_ZONE = "OUT_OF_ZONE"
TOO_FAR = "TOO_FAR"
LOCATION_REQUIRED = "LOCATION_REQUIRED"
SERVICE_NOT_OFFERED = "SERVICE_NOT_OFFERED"

# Why a store is closed (DeliveryQuote.closedReason).
FORCE_CLOSED = "FORCE_CLOSED"
HOLIDAY = "HOLIDAY"
OUTSIDE_HOURS = "OUTSIDE_HOURS"


@dataclass(frozen=True, slots=True)
class WaitRange:
    """Estimated minutes until the order is at the door (or ready for pickup)."""

    min_minutes: int
    max_minutes: int


@dataclass(frozen=True, slots=True)
class Amount:
    """Money as minor units and a currency code."""

    amount: int
    currency: str


@dataclass(frozen=True, slots=True)
class OpenState:
    """Whether a store serves a method at a moment, and why not."""

    is_open: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Reach:
    """Whether a store can serve a place by a method, and why not."""

    can_serve: bool
    distance_meters: int | None
    reason_code: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class StoreDistance:
    """One answer of the store locator."""

    store: Store
    distance_meters: int
    can_serve: bool
    is_open: bool
    wait_time: WaitRange


@dataclass(frozen=True, slots=True)
class DeliveryQuote:
    """What orders needs to accept and price an order at a store."""

    store_id: str
    can_serve: bool
    reason_code: str | None
    reason: str | None
    is_open: bool
    closed_reason: str | None
    distance_meters: int | None
    delivery_fee: Amount
    minimum_order: Amount
    tax_rate_basis_points: int
    wait_time: WaitRange
    time_zone: str


@dataclass(frozen=True, slots=True)
class AddressQuery:
    """A structured address typed by a customer."""

    line1: str
    city: str
    postcode: str | None = None


def _check_method(service_method: str) -> None:
    if service_method not in SERVICE_METHODS:
        raise DomainError(f"Unknown service method {service_method!r}.", field="serviceMethod")


def check_location(point: Point, *, field: str = "location") -> Point:
    """``point`` when it is a valid WGS 84 position; INVALID_LOCATION otherwise."""
    if not is_valid_point(point):
        raise DomainError(
            "The location needs a latitude in -90..90 and a longitude in -180..180.",
            code="INVALID_LOCATION",
            field=field,
        )
    return point


# --- Opening hours -------------------------------------------------------------------


def local_time(*, store: Store, at: datetime) -> datetime:
    """``at`` on the store's wall clock (a naive ``at`` is taken as UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(ZoneInfo(store.time_zone))


def open_state(*, store: Store, service_method: str, at: datetime) -> OpenState:
    """Is the store serving ``service_method`` at ``at``? Evaluated in the store's time zone.

    A period belongs to the weekday it starts on; one crossing midnight keeps the
    store open into the next morning. A holiday cancels the periods starting on it.
    """
    _check_method(service_method)
    if store.force_closed:
        return OpenState(False, FORCE_CLOSED)
    local = local_time(store=store, at=at)
    today, now = local.date(), local.time().replace(tzinfo=None)
    yesterday = today - timedelta(days=1)
    holidays = {h.day for h in store.holidays}
    for period in store.hours:
        if period.service_method != service_method:
            continue
        if period.weekday == today.weekday() and today not in holidays:
            if period.crosses_midnight and now >= period.opens:
                return OpenState(True)
            if period.opens <= now < period.closes:
                return OpenState(True)
        if (
            period.crosses_midnight
            and period.weekday == yesterday.weekday()
            and yesterday not in holidays
            and now < period.closes
        ):
            return OpenState(True)
    return OpenState(False, HOLIDAY if today in holidays else OUTSIDE_HOURS)


def is_open(*, store: Store, service_method: str, at: datetime) -> bool:
    """True when the store serves ``service_method`` at ``at``."""
    return open_state(store=store, service_method=service_method, at=at).is_open


def wait_time(*, store: Store, service_method: str) -> WaitRange:
    """The current estimated wait range of a service method."""
    _check_method(service_method)
    if service_method == "DELIVERY":
        return WaitRange(store.delivery_wait_min, store.delivery_wait_max)
    return WaitRange(store.carryout_wait_min, store.carryout_wait_max)


# --- Zones and reach -----------------------------------------------------------------


def in_delivery_zone(*, store: Store, point: Point) -> bool:
    """Inside the store's polygon, or within its radius (great-circle) of the store."""
    polygon = store.polygon
    if polygon is not None:
        return point_in_polygon(point, polygon)
    if store.zone_radius_meters is not None:
        return within_radius(point, center=store.location, radius_meters=store.zone_radius_meters)
    return False


def offers(*, store: Store, service_method: str) -> bool:
    """The store has opening hours for ``service_method`` at all."""
    return any(h.service_method == service_method for h in store.hours)


def reach(*, store: Store, service_method: str, point: Point | None) -> Reach:
    """Can the store serve ``point``? DELIVERY: inside the zone; CARRYOUT: within 25 km."""
    _check_method(service_method)
    distance = round(road_distance_meters(store.location, point)) if point is not None else None
    if not offers(store=store, service_method=service_method):
        return Reach(
            False,
            distance,
            SERVICE_NOT_OFFERED,
            f"{store.name} does not offer {service_method.lower()}.",
        )
    if service_method == "DELIVERY":
        if point is None:
            return Reach(False, None, LOCATION_REQUIRED, "Delivery needs a location.")
        if not in_delivery_zone(store=store, point=point):
            return Reach(
                False,
                distance,
                OUT_OF_ZONE,
                f"The address is outside {store.name}'s delivery area.",
            )
        return Reach(True, distance)
    if distance is not None and distance > CARRYOUT_RADIUS_METERS:
        return Reach(False, distance, TOO_FAR, f"{store.name} is too far away for carryout.")
    return Reach(True, distance)


# --- Stores --------------------------------------------------------------------------


async def get_store(*, session: AsyncSession, store_id: str) -> Store:
    """The store with ``store_id``; NOT_FOUND otherwise."""
    store = await session.get(Store, store_id)
    if store is None:
        raise NotFound(f"No store has id {store_id!r}.")
    return store


async def list_stores(*, session: AsyncSession) -> list[Store]:
    """Every store, by name."""
    return list(await session.scalars(select(Store).order_by(Store.name, Store.id)))


async def _stores_around(
    *, session: AsyncSession, point: Point, radius_meters: float
) -> list[Store]:
    """Stores in a bounding box around ``point`` (a cheap index-friendly prefilter)."""
    dlat = radius_meters / METERS_PER_DEGREE_LAT
    dlng = radius_meters / (METERS_PER_DEGREE_LAT * max(math.cos(math.radians(point.lat)), 0.01))
    query = select(Store).where(
        Store.lat.between(point.lat - dlat, point.lat + dlat),
        Store.lng.between(point.lng - dlng, point.lng + dlng),
    )
    return list(await session.scalars(query))


# --- Geocoding -----------------------------------------------------------------------


async def geocode(*, geocoder: GeocodingProvider, query: str) -> list[GeocodeResult]:
    """Candidates for a typed address, best first."""
    query = query.strip()
    if not query:
        raise DomainError("Type an address to look up.", field="query")
    if len(query) > MAX_QUERY_LENGTH:
        raise DomainError(
            f"The address must have at most {MAX_QUERY_LENGTH} characters.", field="query"
        )
    return await geocoder.geocode(query)


async def reverse_geocode(*, geocoder: GeocodingProvider, point: Point) -> GeocodeResult | None:
    """The nearest known address or postcode area to ``point``."""
    return await geocoder.reverse(check_location(point))


async def locate_address(*, geocoder: GeocodingProvider, address: AddressQuery) -> Point:
    """Where a structured address is; ADDRESS_NOT_FOUND unless it resolves to a street address."""
    for field, value in (("address.line1", address.line1), ("address.city", address.city)):
        if not value.strip():
            raise DomainError("The address needs a street and a city.", field=field)
    text = ", ".join(p.strip() for p in (address.line1, address.city, address.postcode or "") if p)
    results = await geocode(geocoder=geocoder, query=text)
    street_level = [r for r in results if r.line1 is not None]
    if not street_level:
        raise DomainError(
            f"We could not find {text!r}. Check the street, number and postcode.",
            code="ADDRESS_NOT_FOUND",
            field="address",
        )
    return street_level[0].location


async def stores_near(
    *,
    session: AsyncSession,
    geocoder: GeocodingProvider,
    service_method: str,
    at: datetime,
    address: AddressQuery | None = None,
    location: Point | None = None,
) -> list[StoreDistance]:
    """Stores within the search radius of an address or a location, nearest first.

    Exactly one of ``address`` and ``location`` must be given.
    """
    _check_method(service_method)
    if (address is None) == (location is None):
        raise DomainError("Give exactly one of address and location.", field="address")
    if location is not None:
        point = check_location(location)
    else:
        assert address is not None
        point = await locate_address(geocoder=geocoder, address=address)
    answers = []
    for store in await _stores_around(
        session=session, point=point, radius_meters=SEARCH_RADIUS_METERS
    ):
        reached = reach(store=store, service_method=service_method, point=point)
        assert reached.distance_meters is not None
        if reached.distance_meters > SEARCH_RADIUS_METERS:
            continue
        answers.append(
            StoreDistance(
                store=store,
                distance_meters=reached.distance_meters,
                can_serve=reached.can_serve,
                is_open=is_open(store=store, service_method=service_method, at=at),
                wait_time=wait_time(store=store, service_method=service_method),
            )
        )
    answers.sort(key=lambda a: (a.distance_meters, a.store.name, a.store.id))
    return answers


async def delivery_quote(
    *,
    session: AsyncSession,
    store_id: str,
    service_method: str,
    at: datetime,
    location: Point | None = None,
) -> DeliveryQuote:
    """Whether and on what terms a store serves a place; never fails for being out of zone.

    CARRYOUT has no fee and no minimum order. Unknown store: NOT_FOUND.
    """
    _check_method(service_method)
    point = check_location(location) if location is not None else None
    store = await get_store(session=session, store_id=store_id)
    reached = reach(store=store, service_method=service_method, point=point)
    state = open_state(store=store, service_method=service_method, at=at)
    delivery = service_method == "DELIVERY"
    return DeliveryQuote(
        store_id=store.id,
        can_serve=reached.can_serve,
        reason_code=reached.reason_code,
        reason=reached.reason,
        is_open=state.is_open,
        closed_reason=state.reason,
        distance_meters=reached.distance_meters,
        delivery_fee=Amount(store.delivery_fee if delivery else 0, store.currency),
        minimum_order=Amount(store.minimum_delivery_order if delivery else 0, store.currency),
        tax_rate_basis_points=store.tax_rate_basis_points,
        wait_time=wait_time(store=store, service_method=service_method),
        time_zone=store.time_zone,
    )


# --- Settings ------------------------------------------------------------------------


def ensure_can_manage_store(principal: Principal | None, store_id: str) -> Principal:
    """Admins manage every store; staff only their own. UNAUTHENTICATED / FORBIDDEN otherwise."""
    caller = require_role(principal, "ADMIN", "STAFF")
    if not caller.has_role("ADMIN") and caller.store_id != store_id:
        raise Forbidden("Staff can only change the settings of their own store.")
    return caller


def _check_wait(value: WaitRange | None, field: str) -> None:
    if value is None:
        return
    if value.min_minutes < 0:
        raise DomainError(
            "Wait times cannot be negative.", code="INVALID_WAIT_RANGE", field=f"{field}.minMinutes"
        )
    if not value.min_minutes <= value.max_minutes <= MAX_WAIT_MINUTES:
        raise DomainError(
            f"The longest wait must be between the shortest and {MAX_WAIT_MINUTES} minutes.",
            code="INVALID_WAIT_RANGE",
            field=f"{field}.maxMinutes",
        )


def _check_amount(value: Amount | None, *, field: str, currency: str, maximum: int) -> None:
    if value is None:
        return
    if value.amount < 0:
        raise DomainError(
            "An amount cannot be negative.", code="INVALID_AMOUNT", field=f"{field}.amount"
        )
    if value.amount > maximum:
        raise DomainError(
            f"The amount must be at most {maximum} minor units.",
            code="INVALID_AMOUNT",
            field=f"{field}.amount",
        )
    if value.currency != currency:
        raise DomainError(
            f"The store charges in {currency}.", code="INVALID_CURRENCY", field=f"{field}.currency"
        )


async def update_store_settings(
    *,
    session: AsyncSession,
    principal: Principal | None,
    store_id: str,
    force_closed: bool | None = None,
    delivery_wait: WaitRange | None = None,
    carryout_wait: WaitRange | None = None,
    delivery_fee: Amount | None = None,
    minimum_delivery_order: Amount | None = None,
) -> Store:
    """Change a store's operational settings; everything is validated before anything changes."""
    ensure_can_manage_store(principal, store_id)
    store = await get_store(session=session, store_id=store_id)
    changes = (force_closed, delivery_wait, carryout_wait, delivery_fee, minimum_delivery_order)
    if all(c is None for c in changes):
        raise DomainError("Give at least one setting to change.", field="input")
    _check_wait(delivery_wait, "deliveryWait")
    _check_wait(carryout_wait, "carryoutWait")
    _check_amount(
        delivery_fee, field="deliveryFee", currency=store.currency, maximum=MAX_DELIVERY_FEE
    )
    _check_amount(
        minimum_delivery_order,
        field="minimumDeliveryOrder",
        currency=store.currency,
        maximum=MAX_MINIMUM_ORDER,
    )
    if force_closed is not None:
        store.force_closed = force_closed
    if delivery_wait is not None:
        store.delivery_wait_min, store.delivery_wait_max = (
            delivery_wait.min_minutes,
            delivery_wait.max_minutes,
        )
    if carryout_wait is not None:
        store.carryout_wait_min, store.carryout_wait_max = (
            carryout_wait.min_minutes,
            carryout_wait.max_minutes,
        )
    if delivery_fee is not None:
        store.delivery_fee = delivery_fee.amount
    if minimum_delivery_order is not None:
        store.minimum_delivery_order = minimum_delivery_order.amount
    return store
