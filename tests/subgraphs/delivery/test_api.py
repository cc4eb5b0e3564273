"""delivery through its GraphQL API and the events it consumes and publishes."""

from __future__ import annotations

import pytest

from shared import demo_ids
from shared.bus import Event
from shared.ids import demo_id
from subgraphs.delivery import service
from subgraphs.delivery.demo import STORE_LOCATIONS
from subgraphs.delivery.eta import Point, estimate_eta, haversine_meters
from tests.conftest import bearer, gql

ANA = demo_id("usr", "driver-ana")
BEN = demo_id("usr", "driver-ben")
CARLA = demo_id("usr", "driver-carla")
STORE = demo_ids.STORE_DOWNTOWN
CUSTOMER = demo_ids.CUSTOMER_USER
NORTH = {"lat": 30.2869, "lng": -97.7428}
SOUTH = {"lat": 30.2469, "lng": -97.7428}

TRACK = """
query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { id delivery {
  status dropoff { lat lng } eta { minMinutes maxMinutes } driver { id firstName status }
  position { location { lat lng } } trail { location { lat lng } speed } } } } }
"""
DRIVERS = "query($s: ID) { drivers(storeId: $s) { id firstName status store { id } lastPosition { location { lat } } } }"
SET_STATUS = "mutation($i: SetDriverStatusInput!) { setDriverStatus(input: $i) { driver { id status availableSince } } }"
POST_POSITION = """
mutation($i: PostDriverPositionInput!) { postDriverPosition(input: $i) {
  driver { id status lastPosition { location { lat lng } } } deliveries { orderId eta { minMinutes maxMinutes } } } }
"""
ASSIGN = "mutation($i: AssignDriverInput!) { assignDriver(input: $i) { delivery { status driver { id } } } }"
COMPLETE = "mutation($i: CompleteDeliveryInput!) { completeDelivery(input: $i) { delivery { status deliveredAt } } }"


def record(bus, *types: str) -> list[Event]:
    seen: list[Event] = []

    async def handler(event: Event) -> None:
        seen.append(event)

    bus.subscribe(group="test-recorder", types=types, handler=handler)
    return seen


def placed(order_id: str, *, location=NORTH, method: str = "DELIVERY") -> Event:
    return Event(
        type="OrderPlaced",
        source="orders",
        payload={
            "orderId": order_id,
            "number": "1001",
            "customerId": CUSTOMER,
            "storeId": STORE,
            "serviceMethod": method,
            "total": {"amount": 2599, "currency": "USD"},
            "paymentMethod": {"type": "CASH", "token": None},
            "deliveryLocation": location if method == "DELIVERY" else None,
            "placedAt": "2026-01-01T18:00:00+00:00",
        },
    )


def status_changed(order_id: str, to: str, frm: str = "BAKE") -> Event:
    return Event(
        type="OrderStatusChanged",
        source="orders",
        payload={
            "orderId": order_id,
            "customerId": CUSTOMER,
            "storeId": STORE,
            "serviceMethod": "DELIVERY",
            "from": frm,
            "to": to,
            "at": "2026-01-01T18:20:00+00:00",
            "actor": demo_ids.STAFF_DOWNTOWN,
        },
    )


async def publish(bus, *events: Event) -> None:
    for event in events:
        await bus.publish(event)
    await bus.drain()


async def track(client, settings, order_id: str, user: str = CUSTOMER, *roles: str) -> dict | None:
    body = await gql(
        client,
        TRACK,
        {"r": [{"__typename": "Order", "id": order_id}]},
        headers=bearer(settings, user, *(roles or ("CUSTOMER",))),
    )
    return body["data"]["_entities"][0]["delivery"]


def staff(settings, store: str = STORE) -> dict[str, str]:
    return bearer(settings, demo_ids.STAFF_DOWNTOWN, "STAFF", store_id=store)


async def test_placed_delivery_order_gets_a_pending_delivery_with_an_eta(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, placed("ord_1"))
    tracked = await track(delivery, settings, "ord_1")
    lat, lng = STORE_LOCATIONS[STORE]
    expected = estimate_eta(
        distance_meters=haversine_meters(Point(lat, lng), Point(**NORTH)),
        queue_length=0,
        prep_minutes=6,
        bake_minutes=7,
    )
    assert tracked["status"] == "PENDING"
    assert tracked["dropoff"] == NORTH
    assert tracked["eta"] == {
        "minMinutes": expected.min_minutes,
        "maxMinutes": expected.max_minutes,
    }


async def test_carryout_orders_have_no_delivery(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, placed("ord_c", method="CARRYOUT"))
    assert await track(delivery, settings, "ord_c") is None


async def test_other_customers_cannot_track_an_order(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, placed("ord_1"))
    assert await track(delivery, settings, "ord_1", "usr_stranger") is None


async def test_quality_check_dispatches_the_nearest_driver_once(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    assigned = record(bus, "DriverAssigned")
    ready = status_changed("ord_1", "QUALITY_CHECK")
    await publish(bus, placed("ord_1"), ready, ready)  # the second one is a redelivery
    tracked = await track(delivery, settings, "ord_1")
    assert tracked["status"] == "ASSIGNED"
    assert tracked["driver"] == {"id": ANA, "firstName": "Ana", "status": "ON_DELIVERY"}
    assert [e.payload for e in assigned] == [
        {"orderId": "ord_1", "driverId": ANA, "customerId": CUSTOMER, "storeId": STORE}
    ]


async def test_second_order_the_same_way_rides_with_the_same_driver(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await publish(
        bus, placed("ord_1"), placed("ord_2"), placed("ord_3"), placed("ord_4", location=SOUTH)
    )
    await publish(bus, status_changed("ord_1", "QUALITY_CHECK"))
    await publish(bus, status_changed("ord_2", "QUALITY_CHECK"))
    await publish(bus, status_changed("ord_3", "QUALITY_CHECK"))
    await publish(bus, status_changed("ord_4", "QUALITY_CHECK"))
    drivers = [(await track(delivery, settings, f"ord_{i}"))["driver"] for i in (1, 2, 3, 4)]
    assert [d["id"] if d else None for d in drivers] == [ANA, ANA, BEN, None]


async def test_cancelling_frees_the_driver(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, placed("ord_1"), status_changed("ord_1", "QUALITY_CHECK"))
    await publish(bus, status_changed("ord_1", "CANCELLED", frm="QUALITY_CHECK"))
    assert (await track(delivery, settings, "ord_1"))["status"] == "CANCELLED"
    body = await gql(delivery, DRIVERS, {"s": STORE}, headers=staff(settings))
    assert {d["id"]: d["status"] for d in body["data"]["drivers"]}[ANA] == "AVAILABLE"


async def test_driver_becoming_available_picks_up_a_waiting_order(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    for driver in (ANA, BEN):
        body = await gql(
            delivery,
            SET_STATUS,
            {"i": {"status": "OFF_DUTY", "driverId": driver}},
            headers=staff(settings),
        )
        assert body["data"]["setDriverStatus"]["driver"]["status"] == "OFF_DUTY"
    await publish(bus, placed("ord_1"), status_changed("ord_1", "QUALITY_CHECK"))
    assert (await track(delivery, settings, "ord_1"))["status"] == "PENDING"
    assigned = record(bus, "DriverAssigned")
    await gql(
        delivery,
        SET_STATUS,
        {"i": {"status": "AVAILABLE"}},
        headers=bearer(settings, BEN, "DRIVER"),
    )
    await bus.drain()
    assert (await track(delivery, settings, "ord_1"))["driver"]["id"] == BEN
    assert [e.payload["driverId"] for e in assigned] == [BEN]


async def test_driver_carrying_orders_cannot_go_off_duty(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, placed("ord_1"), status_changed("ord_1", "QUALITY_CHECK"))
    body = await gql(
        delivery, SET_STATUS, {"i": {"status": "OFF_DUTY"}}, headers=bearer(settings, ANA, "DRIVER")
    )
    assert body["errors"][0]["extensions"]["code"] == "DRIVER_HAS_ACTIVE_DELIVERIES"


async def test_a_driver_cannot_change_another_drivers_status(start_subgraph, settings) -> None:
    delivery = await start_subgraph("delivery")
    body = await gql(
        delivery,
        SET_STATUS,
        {"i": {"status": "OFF_DUTY", "driverId": ANA}},
        headers=bearer(settings, BEN, "DRIVER"),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_positions_extend_the_trail_and_recompute_the_eta(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    updates = record(bus, "DriverPositionUpdated")
    await publish(bus, placed("ord_1"), status_changed("ord_1", "QUALITY_CHECK"))
    await publish(bus, status_changed("ord_1", "OUT_FOR_DELIVERY", frm="QUALITY_CHECK"))
    halfway = {"lat": 30.2769, "lng": -97.7428, "heading": 0.0, "speed": 8.0}
    body = await gql(
        delivery, POST_POSITION, {"i": halfway}, headers=bearer(settings, ANA, "DRIVER")
    )
    await bus.drain()
    expected = estimate_eta(
        distance_meters=haversine_meters(Point(30.2769, -97.7428), Point(**NORTH))
    )
    eta = {"minMinutes": expected.min_minutes, "maxMinutes": expected.max_minutes}
    assert body["data"]["postDriverPosition"]["deliveries"] == [{"orderId": "ord_1", "eta": eta}]
    tracked = await track(delivery, settings, "ord_1")
    assert tracked["status"] == "PICKED_UP"
    assert tracked["eta"] == eta
    assert tracked["position"]["location"] == {"lat": 30.2769, "lng": -97.7428}
    assert tracked["trail"] == [{"location": {"lat": 30.2769, "lng": -97.7428}, "speed": 8.0}]
    assert updates[0].payload["orderId"] == "ord_1"
    assert updates[0].payload["eta"] == {"min": expected.min_minutes, "max": expected.max_minutes}


async def test_only_drivers_post_positions(start_subgraph, settings) -> None:
    delivery = await start_subgraph("delivery")
    body = await gql(
        delivery,
        POST_POSITION,
        {"i": {"lat": 30.0, "lng": -97.0}},
        headers=bearer(settings, CUSTOMER),
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_impossible_position_is_refused_with_its_field(start_subgraph, settings) -> None:
    delivery = await start_subgraph("delivery")
    body = await gql(
        delivery,
        POST_POSITION,
        {"i": {"lat": 95.0, "lng": -97.0}},
        headers=bearer(settings, ANA, "DRIVER"),
    )
    assert body["errors"][0]["extensions"] == {"code": "INVALID_POSITION", "field": "lat"}


async def test_completing_a_delivery_publishes_it_and_sends_the_driver_back(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    completed = record(bus, "DeliveryCompleted")
    await publish(bus, placed("ord_1"), status_changed("ord_1", "QUALITY_CHECK"))
    ana = bearer(settings, ANA, "DRIVER")
    await gql(delivery, POST_POSITION, {"i": NORTH}, headers=ana)
    denied = await gql(
        delivery, COMPLETE, {"i": {"orderId": "ord_1"}}, headers=bearer(settings, BEN, "DRIVER")
    )
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await gql(delivery, COMPLETE, {"i": {"orderId": "ord_1"}}, headers=ana)
    await bus.drain()
    assert body["data"]["completeDelivery"]["delivery"]["status"] == "DELIVERED"
    assert [(e.payload["orderId"], e.payload["driverId"]) for e in completed] == [("ord_1", ANA)]
    back = await gql(
        delivery,
        POST_POSITION,
        {"i": dict(zip(("lat", "lng"), STORE_LOCATIONS[STORE], strict=True))},
        headers=ana,
    )
    assert back["data"]["postDriverPosition"]["driver"]["status"] == "AVAILABLE"
    again = await gql(delivery, COMPLETE, {"i": {"orderId": "ord_1"}}, headers=ana)
    assert again["errors"][0]["extensions"]["code"] == "DELIVERY_NOT_ACTIVE"


async def test_driver_far_from_the_store_is_returning_after_delivering(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, placed("ord_1"), status_changed("ord_1", "QUALITY_CHECK"))
    ana = bearer(settings, ANA, "DRIVER")
    await gql(delivery, POST_POSITION, {"i": NORTH}, headers=ana)
    await gql(delivery, COMPLETE, {"i": {"orderId": "ord_1"}}, headers=ana)
    body = await gql(delivery, DRIVERS, {"s": STORE}, headers=staff(settings))
    assert {d["id"]: d["status"] for d in body["data"]["drivers"]}[ANA] == "RETURNING"


async def test_staff_reassign_and_the_old_driver_is_freed(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    assigned = record(bus, "DriverAssigned")
    await publish(bus, placed("ord_1"), status_changed("ord_1", "QUALITY_CHECK"))
    body = await gql(
        delivery, ASSIGN, {"i": {"orderId": "ord_1", "driverId": BEN}}, headers=staff(settings)
    )
    await bus.drain()
    assert body["data"]["assignDriver"]["delivery"] == {"status": "ASSIGNED", "driver": {"id": BEN}}
    assert [e.payload["driverId"] for e in assigned] == [ANA, BEN]
    drivers = await gql(delivery, DRIVERS, {"s": STORE}, headers=staff(settings))
    assert {d["id"]: d["status"] for d in drivers["data"]["drivers"]} == {
        ANA: "AVAILABLE",
        BEN: "ON_DELIVERY",
    }


async def test_assigning_needs_staff_of_the_store(start_subgraph, bus, settings) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, placed("ord_1"))
    variables = {"i": {"orderId": "ord_1", "driverId": BEN}}
    customer = await gql(delivery, ASSIGN, variables, headers=bearer(settings, CUSTOMER))
    other_store = await gql(
        delivery, ASSIGN, variables, headers=staff(settings, demo_ids.STORE_EAST)
    )
    assert customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert other_store["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_assigning_a_driver_who_cannot_take_it_is_refused(
    start_subgraph, bus, settings
) -> None:
    delivery = await start_subgraph("delivery")
    await publish(bus, placed("ord_1"))
    other_store = await gql(
        delivery, ASSIGN, {"i": {"orderId": "ord_1", "driverId": CARLA}}, headers=staff(settings)
    )
    assert other_store["errors"][0]["extensions"] == {
        "code": "DRIVER_NOT_AVAILABLE",
        "field": "driverId",
    }
    await gql(
        delivery, SET_STATUS, {"i": {"status": "OFF_DUTY"}}, headers=bearer(settings, BEN, "DRIVER")
    )
    off_duty = await gql(
        delivery, ASSIGN, {"i": {"orderId": "ord_1", "driverId": BEN}}, headers=staff(settings)
    )
    assert off_duty["errors"][0]["extensions"]["code"] == "DRIVER_NOT_AVAILABLE"
    missing = await gql(
        delivery, ASSIGN, {"i": {"orderId": "ord_x", "driverId": BEN}}, headers=staff(settings)
    )
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_drivers_list_is_for_the_stores_staff(start_subgraph, settings) -> None:
    delivery = await start_subgraph("delivery")
    mine = await gql(delivery, DRIVERS, {}, headers=staff(settings))
    assert [d["firstName"] for d in mine["data"]["drivers"]] == ["Ana", "Ben"]
    assert mine["data"]["drivers"][0]["store"] == {"id": STORE}
    assert mine["data"]["drivers"][0]["lastPosition"] is not None
    other = await gql(delivery, DRIVERS, {"s": demo_ids.STORE_EAST}, headers=staff(settings))
    customer = await gql(delivery, DRIVERS, {}, headers=bearer(settings, CUSTOMER))
    admin = await gql(delivery, DRIVERS, {}, headers=bearer(settings, demo_ids.ADMIN_USER, "ADMIN"))
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert customer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert len(admin["data"]["drivers"]) == len(demo_ids.DRIVERS)


async def test_store_drivers_and_driver_entities_resolve(start_subgraph, settings) -> None:
    delivery = await start_subgraph("delivery")
    query = """query($r: [_Any!]!) { _entities(representations: $r) {
      ... on Store { id drivers { firstName } } ... on Driver { id firstName lastPosition { at } } } }"""
    reps = [{"__typename": "Store", "id": STORE}, {"__typename": "Driver", "id": ANA}]
    as_staff = await gql(delivery, query, {"r": reps}, headers=staff(settings))
    assert as_staff["data"]["_entities"][0]["drivers"] == [
        {"firstName": "Ana"},
        {"firstName": "Ben"},
    ]
    as_customer = await gql(delivery, query, {"r": reps}, headers=bearer(settings, CUSTOMER))
    assert as_customer["data"]["_entities"][0]["drivers"] == []
    assert as_customer["data"]["_entities"][1] == {
        "id": ANA,
        "firstName": "Ana",
        "lastPosition": None,
    }


async def test_a_handled_event_id_is_recognised_as_a_redelivery(start_subgraph) -> None:
    delivery = await start_subgraph("delivery")
    async with delivery.runtime.db.session() as session:
        first = await service.record_event(
            session=session, event_id="evt_1", event_type="OrderPlaced"
        )
        again = await service.record_event(
            session=session, event_id="evt_1", event_type="OrderPlaced"
        )
        await session.commit()
    assert (first, again) == (True, False)


async def test_stage_change_before_order_placed_is_retried_not_lost(
    start_subgraph, bus, settings
) -> None:
    # Redis Streams has one stream per event type: QUALITY_CHECK may arrive before OrderPlaced.
    delivery = await start_subgraph("delivery")
    handlers = {t: s.handler for s in bus._subscriptions if s.group == "delivery" for t in s.types}
    early = status_changed("ord_early", "QUALITY_CHECK")
    with pytest.raises(RuntimeError):
        await handlers["OrderStatusChanged"](early)
    await handlers["OrderPlaced"](placed("ord_early"))
    await handlers["OrderStatusChanged"](early)  # the redelivery
    await bus.drain()
    assert (await track(delivery, settings, "ord_early"))["status"] == "ASSIGNED"
