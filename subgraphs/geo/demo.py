"""The demo city's four Austin stores (loaded once, when the database is empty).

Ids come from :mod:`shared.demo_ids`. Downtown and South Lamar deliver inside
polygons, Hyde Park and East Austin within a radius. The demo customer's home
(1100 Congress Ave, 78701) is inside the Downtown zone.
"""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import select

from shared import demo_ids
from shared.db import utcnow
from shared.subgraph import SubgraphRuntime
from subgraphs.geo.geometry import Point
from subgraphs.geo.models import HolidayClosure, OpeningHours, Store

AUSTIN_TAX_BASIS_POINTS = 825
"""Texas 6.25% plus the City of Austin and transit 2%."""

DOWNTOWN_ZONE = [
    Point(30.2570, -97.7560),
    Point(30.2560, -97.7330),
    Point(30.2700, -97.7290),
    Point(30.2880, -97.7320),
    Point(30.2900, -97.7500),
    Point(30.2760, -97.7620),
]
SOUTH_LAMAR_ZONE = [
    Point(30.2620, -97.7800),
    Point(30.2625, -97.7560),
    Point(30.2480, -97.7470),
    Point(30.2330, -97.7520),
    Point(30.2300, -97.7800),
]

LATE = {4, 5}  # Friday and Saturday nights run later


def _t(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _week(
    method: str, opens: str, closes: str, late_closes: str
) -> list[tuple[str, int, time, time]]:
    return [
        (method, day, _t(opens), _t(late_closes if day in LATE else closes)) for day in range(7)
    ]


STANDARD_HOURS = _week("DELIVERY", "10:30", "01:00", "02:00") + _week(
    "CARRYOUT", "10:30", "23:00", "00:00"
)
HYDE_PARK_HOURS = _week("DELIVERY", "11:00", "00:00", "01:00") + _week(
    "CARRYOUT", "11:00", "22:00", "23:00"
)


def _thanksgiving(year: int) -> date:
    first = date(year, 11, 1)
    first_thursday = 1 + (3 - first.weekday()) % 7
    return date(year, 11, first_thursday + 21)


STORES = [
    {
        "id": demo_ids.STORE_DOWNTOWN,
        "name": "Downtown",
        "phone": "+1 512 555 0141",
        "line1": "416 Congress Ave",
        "postcode": "78701",
        "location": Point(30.2672, -97.7431),
        "polygon": DOWNTOWN_ZONE,
        "radius": None,
        "fee": 399,
        "minimum": 1000,
        "payments": "CARD,CASH,GIFT_CARD",
        "hours": STANDARD_HOURS,
        "thanksgiving": False,
    },
    {
        "id": demo_ids.STORE_SOUTH_LAMAR,
        "name": "South Lamar",
        "phone": "+1 512 555 0142",
        "line1": "1502 S Lamar Blvd",
        "postcode": "78704",
        "location": Point(30.2500, -97.7650),
        "polygon": SOUTH_LAMAR_ZONE,
        "radius": None,
        "fee": 349,
        "minimum": 1200,
        "payments": "CARD,CASH,GIFT_CARD",
        "hours": STANDARD_HOURS,
        "thanksgiving": False,
    },
    {
        "id": demo_ids.STORE_HYDE_PARK,
        "name": "Hyde Park",
        "phone": "+1 512 555 0143",
        "line1": "4301 Speedway",
        "postcode": "78751",
        "location": Point(30.3050, -97.7300),
        "polygon": None,
        "radius": 3000,
        "fee": 299,
        "minimum": 1000,
        "payments": "CARD,GIFT_CARD",
        "hours": HYDE_PARK_HOURS,
        "thanksgiving": True,
    },
    {
        "id": demo_ids.STORE_EAST,
        "name": "East Austin",
        "phone": "+1 512 555 0144",
        "line1": "1900 E 7th St",
        "postcode": "78702",
        "location": Point(30.2620, -97.7200),
        "polygon": None,
        "radius": 3000,
        "fee": 349,
        "minimum": 1000,
        "payments": "CARD,CASH,GIFT_CARD",
        "hours": STANDARD_HOURS,
        "thanksgiving": False,
    },
]


async def seed(runtime: SubgraphRuntime) -> None:
    """Create the four demo stores with zones, hours and this and next year's closures."""
    async with runtime.db.session() as session:
        if await session.scalar(select(Store.id).limit(1)):
            return
        year = utcnow().year
        for spec in STORES:
            store = Store(
                id=spec["id"],
                name=spec["name"],
                phone=spec["phone"],
                line1=spec["line1"],
                city=demo_ids.CITY,
                postcode=spec["postcode"],
                lat=spec["location"].lat,
                lng=spec["location"].lng,
                time_zone=demo_ids.TIME_ZONE,
                currency=demo_ids.CURRENCY,
                minimum_delivery_order=spec["minimum"],
                delivery_fee=spec["fee"],
                tax_rate_basis_points=AUSTIN_TAX_BASIS_POINTS,
                zone_radius_meters=spec["radius"],
                accepted_payment_methods=spec["payments"],
                tipping_allowed=True,
                force_closed=False,
                delivery_wait_min=25,
                delivery_wait_max=40,
                carryout_wait_min=10,
                carryout_wait_max=20,
            )
            store.polygon = spec["polygon"]
            store.hours = [
                OpeningHours(service_method=method, weekday=day, opens=opens, closes=closes)
                for method, day, opens, closes in spec["hours"]
            ]
            closures = [(date(y, 12, 25), "Christmas Day") for y in (year, year + 1)]
            if spec["thanksgiving"]:
                closures += [(_thanksgiving(y), "Thanksgiving") for y in (year, year + 1)]
            store.holidays = [HolidayClosure(day=day, name=name) for day, name in closures]
            session.add(store)
        await session.commit()
