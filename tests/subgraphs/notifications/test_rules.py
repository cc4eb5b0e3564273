"""notifications rules without GraphQL: messages, preferences and exactly-once delivery."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

import subgraphs.notifications
from shared.auth import Principal
from shared.bus import Event
from shared.db import Database
from subgraphs.notifications import service
from subgraphs.notifications.channels import EMAIL, IN_APP, PUSH, SMS, Message, Recipient
from subgraphs.notifications.models import Notification

USER = "usr_casey"


class RecordingChannel:
    """A channel that remembers what it sent (or fails when told to)."""

    def __init__(self, name: str, *, fail: bool = False) -> None:
        self.name, self.fail = name, fail
        self.sent: list[tuple[str, str]] = []

    def can_reach(self, recipient: Recipient) -> bool:
        return True

    async def send(self, *, recipient: Recipient, message: Message) -> None:
        await asyncio.sleep(0)
        if self.fail:
            raise ConnectionError("provider down")
        self.sent.append((recipient.user_id, message.title))


@pytest.fixture
async def db(tmp_path):
    database = Database(
        url=f"sqlite+aiosqlite:///{tmp_path / 'notifications.db'}",
        migrations_dir=Path(subgraphs.notifications.__file__).parent / "migrations",
    )
    await database.migrate()
    yield database
    await database.dispose()


def channels(**overrides) -> dict[str, RecordingChannel]:
    built = {name: RecordingChannel(name) for name in (IN_APP, EMAIL, SMS, PUSH)}
    built.update(overrides)
    return built


def order_placed(order_id: str = "ord_1") -> Event:
    return Event(
        type="OrderPlaced",
        source="orders",
        payload={"orderId": order_id, "number": "1042", "customerId": USER, "storeId": "sto_1"},
    )


async def rows(db: Database) -> list[tuple[str, str, str]]:
    async with db.session() as session:
        found = await session.scalars(select(Notification).order_by(Notification.channel))
        return [(n.channel, n.title, n.status) for n in found]


def test_each_stage_has_its_message_with_the_order_number() -> None:
    message = service.compose_message(
        "OrderStatusChanged", {"orderId": "o", "to": "OUT_FOR_DELIVERY"}, order_number="1042"
    )
    assert message.title == "Order #1042 is on its way"


def test_stages_without_a_message_say_nothing() -> None:
    assert service.compose_message("OrderStatusChanged", {"orderId": "o", "to": "PLACED"}) is None


async def test_the_same_event_twice_notifies_once_per_channel(db) -> None:
    sent = channels()
    event = order_placed()
    await service.notify(db=db, event=event, channels=sent)
    again = await service.notify(db=db, event=event, channels=sent)
    assert again == []
    assert await rows(db) == [
        ("EMAIL", "Order #1042 is placed", "SENT"),
        ("IN_APP", "Order #1042 is placed", "SENT"),
        ("PUSH", "Order #1042 is placed", "SENT"),
    ]
    assert sent[EMAIL].sent == sent[PUSH].sent == [(USER, "Order #1042 is placed")]


async def test_concurrent_redeliveries_still_notify_once(db) -> None:
    sent = channels()
    event = order_placed()
    await asyncio.gather(*(service.notify(db=db, event=event, channels=sent) for _ in range(3)))
    assert len(await rows(db)) == 3
    assert len(sent[EMAIL].sent) == 1


async def test_sms_is_opt_in_and_disabled_channels_are_skipped(db) -> None:
    async with db.session() as session:
        await service.set_preferences(
            session=session,
            principal=Principal(user_id=USER),
            changes=[(SMS, True), (EMAIL, False)],
        )
        await session.commit()
    sent = channels()
    await service.notify(db=db, event=order_placed(), channels=sent)
    assert [channel for channel, _, _ in await rows(db)] == ["IN_APP", "PUSH", "SMS"]
    assert sent[EMAIL].sent == []


async def test_a_failing_channel_is_left_for_a_retry_and_does_not_stop_the_others(db) -> None:
    sent = channels(EMAIL=RecordingChannel(EMAIL, fail=True))
    created = await service.notify(db=db, event=order_placed(), channels=sent)
    assert {channel: status for channel, _, status in await rows(db)} == {
        "EMAIL": "PENDING",
        "IN_APP": "SENT",
        "PUSH": "SENT",
    }
    assert [n.error for n in created if n.channel == EMAIL] == ["provider down"]


async def test_a_failing_channel_with_no_attempt_left_is_failed(db) -> None:
    sent = channels(EMAIL=RecordingChannel(EMAIL, fail=True))
    await service.notify(db=db, event=order_placed(), channels=sent, max_attempts=1)
    assert ("EMAIL", "Order #1042 is placed", "FAILED") in await rows(db)


async def test_payment_problems_reach_the_customer_of_the_order(db) -> None:
    sent = channels()
    await service.notify(db=db, event=order_placed(), channels=sent)
    declined = Event(
        type="PaymentDeclined",
        source="payments",
        payload={"orderId": "ord_1", "paymentId": "pay_1", "reason": "insufficient funds"},
    )
    created = await service.notify(db=db, event=declined, channels=sent)
    assert {n.user_id for n in created} == {USER}
    assert created[0].title == "Payment problem: Order #1042"


async def test_an_event_about_an_unknown_order_waits_for_a_retry(db) -> None:
    declined = Event(type="PaymentDeclined", source="payments", payload={"orderId": "ord_x"})
    with pytest.raises(service.RecipientUnknown):
        await service.notify(db=db, event=declined, channels=channels())
