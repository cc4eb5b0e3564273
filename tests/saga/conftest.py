"""The order ↔ payment saga on PostgreSQL and Redis Streams, with things breaking on purpose.

``redis_server``: a private ``redis-server`` on a free port (never the machine's Redis on
6379, other tests use it) that a test may stop, kill and start again.
``saga``: orders, payments, delivery and notifications in this process, each on its own
PostgreSQL database (created here, dropped after) and its own ``RedisStreamsBus`` on the
private Redis; orders prices with a fake catalog. The payment gateway and the
notification channels count every call.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from shared import outbox
from shared.bus import RedisStreamsBus
from shared.settings import Settings
from shared.subgraph import SubgraphRuntime
from subgraphs import create_app
from subgraphs.notifications.channels import IN_APP, PUSH, SMS, Message, Recipient
from subgraphs.payments.gateway import GatewayResult, TestGateway
from tests.subgraphs.orders.conftest import FakeCatalog

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
SAGA_SUBGRAPHS = ("payments", "orders", "delivery", "notifications")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of this test only: stop, kill and start it at will."""

    def __init__(self, directory: Path, *, persistent: bool) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.persistent = persistent
        self._proc: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        """Start it and wait until it answers."""
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if self.persistent
            else ["--appendonly", "no"]
        )
        self._proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(self.directory),
                *persistence,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis.asyncio as redis

        client = redis.Redis.from_url(self.url)
        try:
            for _ in range(200):
                try:
                    await client.ping()
                    return
                except Exception:
                    await asyncio.sleep(0.025)
            raise TimeoutError("redis-server did not start")
        finally:
            await client.aclose()

    async def stop(self, *, kill: bool = False) -> None:
        """Shut it down (``kill``: SIGKILL, no goodbye)."""
        if self._proc is None:
            return
        if kill:
            self._proc.kill()
        else:
            self._proc.terminate()
        await asyncio.to_thread(self._proc.wait, 10)
        self._proc = None


@pytest.fixture
async def redis_server(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[RedisServer]:
    """A private Redis; without persistence (the default) a restart loses every stream.

    ``@pytest.mark.parametrize("redis_server", ["persistent"], indirect=True)``: an
    append-only file synced on every write, so even SIGKILL loses nothing.
    """
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    persistent = getattr(request, "param", "ephemeral") == "persistent"
    server = RedisServer(tmp_path / "redis", persistent=persistent)
    server.directory.mkdir()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@dataclass
class CountingGateway:
    """The test gateway, counting every call per idempotency key; can hang after authorizing."""

    inner: TestGateway = field(default_factory=TestGateway)
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    hang_next_authorization: bool = False
    hung: asyncio.Event = field(default_factory=asyncio.Event)
    hung_task: str = ""
    """The name of the consumer task that hangs (``bus-<group>-<consumer>``)."""

    # ``**extra``: whatever else the gateway port carries (metadata...) is passed through.
    async def authorize(self, *, idempotency_key: str, **extra: Any) -> GatewayResult:
        self.calls["authorize", idempotency_key] += 1
        result = await self.inner.authorize(idempotency_key=idempotency_key, **extra)
        if self.hang_next_authorization:
            # The money is held at the gateway, then the consumer dies before committing.
            self.hang_next_authorization = False
            task = asyncio.current_task()
            self.hung_task = task.get_name() if task else ""
            self.hung.set()
            await asyncio.sleep(3600)
        return result

    async def capture(self, *, idempotency_key: str, **extra: Any) -> GatewayResult:
        self.calls["capture", idempotency_key] += 1
        return await self.inner.capture(idempotency_key=idempotency_key, **extra)

    async def void(self, *, idempotency_key: str, **extra: Any) -> GatewayResult:
        self.calls["void", idempotency_key] += 1
        return await self.inner.void(idempotency_key=idempotency_key, **extra)

    async def refund(self, *, idempotency_key: str, **extra: Any) -> GatewayResult:
        self.calls["refund", idempotency_key] += 1
        return await self.inner.refund(idempotency_key=idempotency_key, **extra)

    def executed(self, operation: str) -> Counter[str]:
        """How often each idempotency key really ran ``operation`` at the gateway."""
        return Counter(key for op, key in self.inner.operations if op == operation)


@dataclass
class CountingChannel:
    """A notification channel that counts what it was asked to send."""

    name: str
    sent: list[tuple[str, str]] = field(default_factory=list)

    def can_reach(self, recipient: Recipient) -> bool:
        return True

    async def send(self, *, recipient: Recipient, message: Message) -> None:
        self.sent.append((recipient.user_id, message.title))


@dataclass
class Saga:
    """The running subgraphs of one saga test."""

    redis: RedisServer
    namespace: str
    runtimes: dict[str, SubgraphRuntime]
    clients: dict[str, httpx.AsyncClient]
    gateway: CountingGateway
    channels: dict[str, Any]

    async def settled(self) -> bool:
        """Nothing left in any outbox and every consumer group caught up and acknowledged."""
        for runtime in self.runtimes.values():
            if runtime.relay is not None and await outbox.pending_count(runtime.db):
                return False
        import redis.asyncio as redis

        client = redis.Redis.from_url(self.redis.url)
        try:
            async for key in client.scan_iter(match=f"{self.namespace}:events:*"):
                stream = await client.xinfo_stream(key)
                for group in await client.xinfo_groups(key):
                    if (
                        group["pending"]
                        or group["last-delivered-id"] != stream["last-generated-id"]
                    ):
                        return False
        finally:
            await client.aclose()
        return True

    async def wait_until(self, condition, *, timeout: float = 20.0, what: str = "") -> None:
        """Poll ``condition`` (sync or async) until it holds."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = condition()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"timed out waiting for {what or condition}")
            await asyncio.sleep(0.05)


async def _postgres_or_skip() -> None:
    try:
        import asyncpg

        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        await conn.close()
    except Exception:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL must be running in CI")
        pytest.skip("PostgreSQL is not running")


@pytest.fixture
async def saga(redis_server: RedisServer, tmp_path: Path) -> AsyncIterator[Saga]:
    """orders, payments, delivery and notifications on PostgreSQL and the private Redis."""
    await _postgres_or_skip()
    import asyncpg

    run = uuid.uuid4().hex[:10]
    databases = {name: f"pizza_saga_{run}_{name}" for name in SAGA_SUBGRAPHS}
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    for database in databases.values():
        await admin.execute(f'CREATE DATABASE "{database}"')
    namespace = f"saga-{run}"
    settings = Settings(
        data_dir=tmp_path,
        database_url_template=f"postgresql+asyncpg://postgres@127.0.0.1:5432/pizza_saga_{run}_{{name}}",
        redis_url=redis_server.url,
        bus_namespace=namespace,
    )
    gateway = CountingGateway()
    channels = {name: CountingChannel(name) for name in (IN_APP, SMS, PUSH)}
    peers: dict[str, httpx.AsyncClient] = {}
    runtimes: dict[str, SubgraphRuntime] = {}
    try:
        async with AsyncExitStack() as stack:
            for name in SAGA_SUBGRAPHS:
                runtime = SubgraphRuntime.create(name, settings=settings)
                if isinstance(runtime.bus, RedisStreamsBus):
                    # An event that fails (e.g. a stage change read before its OrderPlaced,
                    # one stream per type) is retried after this idle time: half a second
                    # here, a minute by default, so the waits below stay short.
                    runtime.bus.claim_idle_ms, runtime.bus.claim_interval = 500, 0.2
                runtime.extras.update(
                    peers=peers,
                    catalog=FakeCatalog(),
                    payment_gateway=gateway,
                    notification_channels=channels,
                )
                app = create_app(name, runtime)
                manager = await stack.enter_async_context(LifespanManager(app))
                client = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=manager.app), base_url=f"http://{name}"
                )
                await stack.enter_async_context(client)
                peers[name], runtimes[name] = client, runtime
            yield Saga(
                redis=redis_server,
                namespace=namespace,
                runtimes=runtimes,
                clients=peers,
                gateway=gateway,
                channels=channels,
            )
    finally:
        for database in databases.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
