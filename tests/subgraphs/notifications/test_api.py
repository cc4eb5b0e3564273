"""notifications through its GraphQL API, fed by events on the bus; email over SMTP."""

from __future__ import annotations

from shared import demo_ids
from shared.bus import Event
from tests.conftest import bearer, gql
from tests.subgraphs.notifications.smtp_server import smtp_server

CUSTOMER = demo_ids.CUSTOMER_USER

NOTIFICATIONS = """
query($r: [_Any!]!, $unread: Boolean! = false) { _entities(representations: $r) { ... on User {
  notifications(first: 10, unreadOnly: $unread) { totalCount unreadCount
    edges { node { id kind title orderId read } } } } } }
"""
MARK_READ = "mutation($i: MarkNotificationReadInput!) { markNotificationRead(input: $i) { notification { id read readAt } } }"
SET_PREFS = "mutation($i: SetNotificationPreferencesInput!) { setNotificationPreferences(input: $i) { preferences { channel enabled } } }"


def order_event(type_: str, order_id: str = "ord_1", **payload) -> Event:
    base = {"orderId": order_id, "customerId": CUSTOMER, "storeId": demo_ids.STORE_DOWNTOWN}
    return Event(type=type_, source="orders", payload={**base, **payload})


async def publish(bus, *events: Event) -> None:
    for event in events:
        await bus.publish(event)
    await bus.drain()


async def notifications(client, settings, user: str = CUSTOMER, unread: bool | None = None) -> dict:
    body = await gql(
        client,
        NOTIFICATIONS,
        {"r": [{"__typename": "User", "id": CUSTOMER}], "unread": bool(unread)},
        headers=bearer(settings, user),
    )
    return body


async def test_order_events_become_in_app_notifications_newest_first(
    start_subgraph, bus, settings
) -> None:
    client = await start_subgraph("notifications")
    placed = order_event("OrderPlaced", number="1042")
    await publish(bus, placed)
    await publish(bus, order_event("OrderStatusChanged", to="BAKE"))
    await publish(bus, order_event("DriverAssigned", driverId="usr_driver"))
    page = (await notifications(client, settings))["data"]["_entities"][0]["notifications"]
    assert [e["node"]["title"] for e in page["edges"]] == [
        "Order #1042 has a driver",
        "Order #1042 is in the oven",
        "Order #1042 is placed",
    ]
    assert page["totalCount"] == page["unreadCount"] == 3
    assert page["edges"][0]["node"]["orderId"] == "ord_1"


async def test_a_redelivered_event_notifies_once(start_subgraph, bus, settings) -> None:
    client = await start_subgraph("notifications")
    placed = order_event("OrderPlaced", number="1042")
    await publish(bus, placed, placed)
    await publish(bus, placed)
    page = (await notifications(client, settings))["data"]["_entities"][0]["notifications"]
    assert page["totalCount"] == 1


async def test_only_the_user_reads_their_notifications(start_subgraph, bus, settings) -> None:
    client = await start_subgraph("notifications")
    await publish(bus, order_event("OrderPlaced", number="1"))
    body = await notifications(client, settings, user="usr_other")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_marking_read_is_for_the_owner_and_unread_only_filters(
    start_subgraph, bus, settings
) -> None:
    client = await start_subgraph("notifications")
    await publish(bus, order_event("OrderPlaced", number="1"))
    await publish(bus, order_event("OrderStatusChanged", to="PREP"))
    page = (await notifications(client, settings))["data"]["_entities"][0]["notifications"]
    first_id = page["edges"][0]["node"]["id"]
    stranger = await gql(
        client, MARK_READ, {"i": {"notificationId": first_id}}, headers=bearer(settings, "usr_x")
    )
    assert stranger["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    mine = await gql(
        client, MARK_READ, {"i": {"notificationId": first_id}}, headers=bearer(settings, CUSTOMER)
    )
    assert mine["data"]["markNotificationRead"]["notification"]["read"] is True
    unread = (await notifications(client, settings, unread=True))["data"]["_entities"][0]
    assert unread["notifications"]["totalCount"] == unread["notifications"]["unreadCount"] == 1
    assert unread["notifications"]["edges"][0]["node"]["kind"] == "OrderPlaced"


async def test_turning_in_app_off_stops_in_app_notifications(start_subgraph, bus, settings) -> None:
    client = await start_subgraph("notifications")
    body = await gql(
        client,
        SET_PREFS,
        {"i": {"preferences": [{"channel": "IN_APP", "enabled": False}]}},
        headers=bearer(settings, CUSTOMER),
    )
    assert body["data"]["setNotificationPreferences"]["preferences"] == [
        {"channel": "IN_APP", "enabled": False},
        {"channel": "EMAIL", "enabled": True},
        {"channel": "SMS", "enabled": False},
        {"channel": "PUSH", "enabled": True},
    ]
    await publish(bus, order_event("OrderPlaced", number="1"))
    page = (await notifications(client, settings))["data"]["_entities"][0]["notifications"]
    assert page["totalCount"] == 0


async def test_setting_preferences_needs_a_token(start_subgraph) -> None:
    client = await start_subgraph("notifications")
    body = await gql(
        client, SET_PREFS, {"i": {"preferences": [{"channel": "SMS", "enabled": True}]}}
    )
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_email_goes_out_over_smtp_when_configured(
    start_subgraph, bus, settings, monkeypatch
) -> None:
    async with smtp_server() as smtp:
        monkeypatch.setenv("PIZZA_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("PIZZA_SMTP_PORT", str(smtp.port))
        await start_subgraph("notifications")
        registered = Event(
            type="UserRegistered",
            source="users",
            payload={
                "userId": "usr_pat",
                "email": "pat@example.com",
                "name": "Pat Doe",
                "roles": ["CUSTOMER"],
            },
        )
        await publish(bus, registered, registered)
        await publish(bus, order_event("OrderPlaced", number="7", customerId="usr_pat"))
    assert [(m["To"], m["Subject"]) for m in smtp.messages] == [
        ("pat@example.com", "Welcome, Pat!"),
        ("pat@example.com", "Order #7 is placed"),
    ]
