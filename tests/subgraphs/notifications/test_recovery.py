"""Notifications a process recorded but never sent (it died) are sent once by the sweeper."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select, update

import subgraphs.notifications
from shared.bus import Event, InProcessBus
from shared.db import Database, utcnow
from shared.settings import Settings
from shared.subgraph import SubgraphRuntime
from subgraphs import create_app
from subgraphs.notifications import sending, service
from subgraphs.notifications.channels import (
    EMAIL,
    IN_APP,
    EmailChannel,
    InAppChannel,
    Message,
    Recipient,
    SmtpSettings,
)
from subgraphs.notifications.models import Contact, Notification
from subgraphs.notifications.sweeper import SWEEPER_KEY, UnsentSweeper
from tests.shared.conftest import pg_url  # noqa: F401  (fixture)
from tests.subgraphs.notifications.smtp_server import FakeSmtpServer, smtp_server

USER = "usr_casey"
MIGRATIONS = Path(subgraphs.notifications.__file__).parent / "migrations"
RETRY = sending.RetrySettings(lease_seconds=60, max_attempts=3, batch_size=4)
AFTER_THE_LEASE = timedelta(seconds=61)


class ProcessKilled(BaseException):
    """The process dies here: nothing after it runs, not even ``except Exception``."""


class DyingChannel:
    """Email that kills the process before handing the message over, or right after."""

    name = EMAIL

    def __init__(self, email: EmailChannel, *, after_sending: bool = False) -> None:
        self.email, self.after_sending = email, after_sending

    def can_reach(self, recipient: Recipient) -> bool:
        return True

    async def send(self, *, recipient: Recipient, message: Message) -> None:
        if self.after_sending:
            await self.email.send(recipient=recipient, message=message)
        raise ProcessKilled


class SlowChannel:
    """Email with some latency, so that concurrent sweeps overlap."""

    name = EMAIL

    def __init__(self, email: EmailChannel) -> None:
        self.email = email

    def can_reach(self, recipient: Recipient) -> bool:
        return True

    async def send(self, *, recipient: Recipient, message: Message) -> None:
        await asyncio.sleep(0.01)
        await self.email.send(recipient=recipient, message=message)


class FailingChannel(SlowChannel):
    async def send(self, *, recipient: Recipient, message: Message) -> None:
        raise ConnectionError("SMTP server unreachable")


async def _migrated(url: str) -> Database:
    db = Database(url=url, migrations_dir=MIGRATIONS)
    await db.migrate()
    async with db.session() as session:
        session.add(Contact(user_id=USER, email="casey@example.com", name="Casey Doe"))
        await session.commit()
    return db


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await _migrated(f"sqlite+aiosqlite:///{tmp_path / 'notifications.db'}")
    yield database
    await database.dispose()


@pytest.fixture
async def smtp() -> AsyncIterator[FakeSmtpServer]:
    async with smtp_server() as server:
        yield server


def email_to(smtp: FakeSmtpServer) -> EmailChannel:
    return EmailChannel(SmtpSettings(host="127.0.0.1", port=smtp.port))


def order_placed(n: int = 1) -> Event:
    return Event(
        type="OrderPlaced",
        source="orders",
        payload={"orderId": f"ord_{n}", "number": str(1000 + n), "customerId": USER},
    )


async def record_and_die(db: Database, email: EmailChannel, *, after_sending: bool = False) -> None:
    """What a process killed while notifying leaves behind."""
    dying = {IN_APP: InAppChannel(), EMAIL: DyingChannel(email, after_sending=after_sending)}
    with pytest.raises(ProcessKilled):
        await service.notify(db=db, event=order_placed(), channels=dying)


async def stored(db: Database) -> dict[str, Notification]:
    async with db.session() as session:
        return {n.channel: n for n in await session.scalars(select(Notification))}


async def backdate(db: Database, *, minutes: int = 5) -> None:
    """Let the claims of the process that died grow old."""
    async with db.session() as session:
        await session.execute(
            update(Notification).values(claimed_at=utcnow() - timedelta(minutes=minutes))
        )
        await session.commit()


async def sweep(db: Database, channel: object, *, later: int = 1, retry=RETRY) -> list:
    return await sending.resend_unsent(
        db=db,
        channels={EMAIL: channel},
        settings=retry,
        now=utcnow() + later * AFTER_THE_LEASE,
    )


async def test_a_notification_recorded_but_never_sent_is_sent_once_after_its_lease(
    db, smtp
) -> None:
    email = email_to(smtp)
    await record_and_die(db, email)
    assert smtp.messages == [] and (await stored(db))[EMAIL].status == "PENDING"
    await sweep(db, email)
    await sweep(db, email, later=2)
    rows = await stored(db)
    assert [m["Subject"] for m in smtp.messages] == ["Order #1001 is placed"]
    assert smtp.messages[0]["Message-ID"] == f"<{rows[EMAIL].id}@pizza.example>"
    assert (rows[EMAIL].status, rows[EMAIL].attempts) == ("SENT", 2)
    assert sorted(rows) == [EMAIL, IN_APP]  # still one stored notification per channel


async def test_a_claim_still_within_its_lease_is_left_alone(db, smtp) -> None:
    email = email_to(smtp)
    await record_and_die(db, email)
    assert await sending.resend_unsent(db=db, channels={EMAIL: email}, settings=RETRY) == []
    assert smtp.messages == [] and (await stored(db))[EMAIL].status == "PENDING"


async def test_a_resend_after_a_crash_is_recognisably_the_same_message(db, smtp) -> None:
    email = email_to(smtp)
    await record_and_die(db, email, after_sending=True)  # the server took it, then we died
    await sweep(db, email)
    row = (await stored(db))[EMAIL]
    assert [m["Message-ID"] for m in smtp.messages] == [email.message_id(row.id)] * 2
    assert row.status == "SENT"


async def test_a_failing_send_is_retried_until_its_last_attempt_then_failed(db, smtp) -> None:
    failing = FailingChannel(email_to(smtp))
    await service.notify(db=db, event=order_placed(), channels={EMAIL: failing}, max_attempts=3)
    await sweep(db, failing, later=1)
    row = (await stored(db))[EMAIL]
    assert (row.status, row.attempts) == ("PENDING", 2)
    await sweep(db, failing, later=2)
    row = (await stored(db))[EMAIL]
    assert (row.status, row.attempts, row.error) == ("FAILED", 3, "SMTP server unreachable")
    assert await sweep(db, failing, later=3) == []


async def test_unsent_notifications_older_than_the_max_age_expire(db, smtp) -> None:
    email = email_to(smtp)
    await record_and_die(db, email)
    stale = sending.RetrySettings(lease_seconds=60, max_age_hours=1 / 60)  # one minute
    assert await sweep(db, email, retry=stale) == []
    row = (await stored(db))[EMAIL]
    assert smtp.messages == [] and row.status == "FAILED" and "expired" in row.error


async def test_channels_this_process_lacks_are_left_pending(db, smtp) -> None:
    await record_and_die(db, email_to(smtp))
    await sending.resend_unsent(db=db, channels={}, settings=RETRY, now=utcnow() + AFTER_THE_LEASE)
    assert (await stored(db))[EMAIL].attempts == 1


async def _record_many_and_die(db: Database, email: EmailChannel, count: int) -> None:
    dying = {EMAIL: DyingChannel(email)}
    for n in range(count):
        with pytest.raises(ProcessKilled):
            await service.notify(db=db, event=order_placed(n), channels=dying)
    await backdate(db)


async def _two_sweepers_at_once(url: str, email: EmailChannel) -> list[int]:
    """Two processes' sweepers (two engines, no shared lock) sweeping the same rows."""
    retry = sending.RetrySettings(lease_seconds=60, batch_size=3)
    second = Database(url=url, migrations_dir=MIGRATIONS)
    try:
        sweepers = [
            UnsentSweeper(
                db=db, channels=lambda: {EMAIL: SlowChannel(email)}, settings=lambda: retry
            )
            for db in (Database(url=url, migrations_dir=MIGRATIONS), second)
        ]
        try:
            return list(await asyncio.gather(*(s.sweep_once() for s in sweepers)))
        finally:
            await sweepers[0].db.dispose()
    finally:
        await second.dispose()


async def _sent_once_each(db: Database, smtp: FakeSmtpServer, email: EmailChannel) -> None:
    async with db.session() as session:
        ids = set(await session.scalars(select(Notification.id)))
        statuses = set(await session.scalars(select(Notification.status)))
    assert Counter(m["Message-ID"] for m in smtp.messages) == Counter(map(email.message_id, ids))
    assert statuses == {"SENT"}


async def test_two_sweepers_on_sqlite_send_each_notification_once(db, smtp) -> None:
    email = email_to(smtp)
    await _record_many_and_die(db, email, 12)
    counts = await _two_sweepers_at_once(str(db.url), email)
    assert sum(counts) == 12
    await _sent_once_each(db, smtp, email)


@pytest.mark.postgres
async def test_two_sweepers_on_postgresql_send_each_notification_once(pg_url, smtp) -> None:  # noqa: F811
    db = await _migrated(pg_url)
    try:
        email = email_to(smtp)
        await _record_many_and_die(db, email, 12)
        counts = await _two_sweepers_at_once(pg_url, email)
        assert sum(counts) == 12 and all(counts), counts  # both took a share, none twice
        await _sent_once_each(db, smtp, email)
    finally:
        await db.dispose()


async def test_the_app_sweeps_on_start_and_stops_cleanly(tmp_path, smtp, monkeypatch) -> None:
    monkeypatch.setenv("PIZZA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PIZZA_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("PIZZA_NOTIFICATIONS_SWEEP_INTERVAL_SECONDS", "0.05")
    runtime = SubgraphRuntime.create(
        "notifications", settings=Settings(data_dir=tmp_path), bus=InProcessBus()
    )
    await runtime.db.migrate()
    async with runtime.db.session() as session:
        session.add(Contact(user_id=USER, email="casey@example.com", name="Casey Doe"))
        await session.commit()
    await record_and_die(runtime.db, email_to(smtp))  # the previous process died here...
    await backdate(runtime.db)  # ...five minutes ago
    async with LifespanManager(create_app("notifications", runtime)):
        sweeper = runtime.extras[SWEEPER_KEY]
        for _ in range(200):
            if smtp.messages:
                break
            await asyncio.sleep(0.01)
        assert sweeper.running
    assert not sweeper.running
    assert [m["To"] for m in smtp.messages] == ["casey@example.com"]
    assert (await stored(runtime.db))[EMAIL].status == "SENT"
    await runtime.db.dispose()
