"""The ASGI app every subgraph is built with: same wiring, same endpoints.

Enters: a subgraph's schema, loaders factory, event consumers and demo seed.
Leaves: a FastAPI app serving ``POST/GET /graphql`` (Apollo Federation 2
subgraph protocol: ``_service``, ``_entities``), subscriptions over ``graphql-transport-ws``
on the same path, ``GET /health`` (liveness), ``GET /ready`` (its database, and Redis when it
uses it, answer) and ``GET /metrics`` (Prometheus). Each GraphQL request gets a server span
parented by the router's ``traceparent`` and one JSON log line; on start it
migrates its own database, loads demo data once, registers its consumers and, when
its database has an outbox, runs the relay that publishes what is left in it. A subgraph's
own background work (``background``) runs while the app is up, between that start and the
shutdown that closes the relay, the bus and the database.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import orjson
import strawberry
from fastapi import FastAPI
from graphql import GraphQLError
from sqlalchemy import text
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from strawberry.fastapi import BaseContext, GraphQLRouter

from shared import crypto
from shared.auth import Principal, claims_header_for_request, principal_from_claims_header
from shared.bus import EventBus, InProcessBus, RedisStreamsBus
from shared.db import Database
from shared.errors import DomainError
from shared.gql_errors import CodedErrors
from shared.logging import configure_logging, log_request
from shared.metrics import SubgraphMetrics, metrics_endpoint
from shared.outbox import OutboxRelay, has_outbox
from shared.settings import Settings, get_settings
from shared.telemetry import ObservedRequests, RequestRecord, configure_from_env

log = logging.getLogger(__name__)

_embedded_bus: InProcessBus | None = None


def embedded_bus() -> InProcessBus:
    """The one in-process bus every subgraph of this process shares."""
    global _embedded_bus
    if _embedded_bus is None:
        _embedded_bus = InProcessBus()
    return _embedded_bus


def reset_embedded_bus() -> None:
    """Forget the shared in-process bus (tests start a fresh stack each time)."""
    global _embedded_bus
    _embedded_bus = None


@dataclass
class SubgraphRuntime:
    """What a running subgraph holds: its settings, database, bus and outbox relay."""

    name: str
    settings: Settings
    db: Database
    bus: EventBus
    owns_bus: bool = False
    relay: OutboxRelay | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(
        cls, name: str, *, settings: Settings | None = None, bus: EventBus | None = None
    ) -> SubgraphRuntime:
        """Build the runtime of subgraph ``name`` from settings."""
        settings = settings or get_settings()
        migrations = Path(__file__).resolve().parent.parent / "subgraphs" / name / "migrations"
        db = Database(url=settings.database_url(name), migrations_dir=migrations)
        owns_bus = False
        if bus is None:
            if settings.redis_url:
                bus = RedisStreamsBus(
                    settings.redis_url,
                    namespace=settings.bus_namespace,
                    claim_idle_ms=int(settings.bus_claim_idle_seconds * 1000),
                )
                owns_bus = True
            else:
                bus = embedded_bus()
        return cls(name=name, settings=settings, db=db, bus=bus, owns_bus=owns_bus)


BackgroundWork = Callable[[SubgraphRuntime], AbstractAsyncContextManager[None]]
"""Work a subgraph runs while its app is up: entered once the subgraph has started, exited
before it shuts down (see :func:`create_subgraph_app`)."""


class SubgraphContext(BaseContext):
    """Per-request context: the runtime, the caller and the request's DataLoaders."""

    def __init__(self, runtime: SubgraphRuntime, authorization: str | None, loaders: Any):
        super().__init__()
        self.runtime = runtime
        self.authorization = authorization
        """The router's signed ``x-pizza-claims``, passed on as is to peer subgraphs."""
        self.loaders = loaders

    @cached_property
    def principal(self) -> Principal | None:
        """The caller the router vouches for; None when anonymous (ADR 0007).

        Raises UNAUTHENTICATED when ``x-pizza-claims`` is forged, tampered with or expired.
        """
        return principal_from_claims_header(self.authorization, settings=self.runtime.settings)

    @property
    def db(self) -> Database:
        """This subgraph's own database."""
        return self.runtime.db


class SubgraphSchema(strawberry.federation.Schema):
    """Federation 2 schema that logs only unexpected errors (domain errors are answers)."""

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        unexpected = [
            e
            for e in errors
            if not isinstance(e.original_error, DomainError) and e.original_error is not None
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def create_schema(
    *,
    query: type,
    mutation: type | None = None,
    subscription: type | None = None,
    types: tuple[type, ...] = (),
) -> SubgraphSchema:
    """A Federation 2 schema with the project's error handling."""
    return SubgraphSchema(
        subscription=subscription,
        query=query,
        mutation=mutation,
        types=types,
        extensions=[CodedErrors],
        federation_version="2.11",
    )


def create_subgraph_app(
    *,
    runtime: SubgraphRuntime,
    schema: SubgraphSchema,
    make_loaders: Callable[[SubgraphRuntime], Any],
    register_consumers: Callable[[SubgraphRuntime], None] | None = None,
    seed: Callable[[SubgraphRuntime], Awaitable[None]] | None = None,
    background: Sequence[BackgroundWork] = (),
) -> FastAPI:
    """The FastAPI app of one subgraph.

    ``background`` holds the subgraph's own work (a purge, a sweeper): each is called with
    the runtime and entered, in order, once the subgraph has started (database migrated,
    demo data loaded, consumers registered, bus and outbox relay running); they are exited
    in reverse order when the app stops, before the relay, the bus and the database close.
    """
    metrics = SubgraphMetrics(runtime.name)

    def observe_backlog(pending: int, lag: float) -> None:
        metrics.outbox_pending.set(pending)
        metrics.outbox_lag.set(lag)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        configure_logging()
        configure_from_env(service_name=runtime.name)
        crypto.configure(runtime.settings)  # data keys for encrypted columns (ADR 0012)
        if runtime.settings.migrate_on_start:
            await runtime.db.migrate()
        if seed is not None and runtime.settings.load_demo_data:
            await seed(runtime)
        if register_consumers is not None:
            register_consumers(runtime)
        await runtime.bus.start()
        if await has_outbox(runtime.db):
            runtime.relay = OutboxRelay(
                db=runtime.db, bus=runtime.bus, observe_backlog=observe_backlog
            )
            await runtime.relay.start()
        log.info("subgraph %s ready", runtime.name)
        try:
            async with AsyncExitStack() as running:
                for work in background:
                    await running.enter_async_context(work(runtime))
                yield
        finally:
            if runtime.relay is not None:
                await runtime.relay.stop()
            if runtime.owns_bus:
                await runtime.bus.stop()
            await runtime.db.dispose()

    async def get_context(connection: HTTPConnection) -> SubgraphContext:
        # HTTP requests and subscription websockets alike: the router signs the claims
        # header on every request and on every websocket upgrade.
        # With PIZZA_TRUST_JWT_FROM_JWKS_URL (Apollo Router in front) a verified bearer
        # token is turned into the same claims header.
        claims = await claims_header_for_request(connection.headers, settings=runtime.settings)
        return SubgraphContext(runtime, claims, make_loaders(runtime))

    app = FastAPI(title=f"pizza {runtime.name} subgraph", lifespan=lifespan)
    app.include_router(
        GraphQLRouter(schema, context_getter=get_context, graphql_ide=None), prefix="/graphql"
    )

    @app.get("/health", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "subgraph": runtime.name}

    @app.get("/ready", tags=["health"])
    async def ready() -> JSONResponse:
        checks = await readiness(runtime)
        status = 200 if all(v == "ok" for v in checks.values()) else 503
        body = {"status": "ok" if status == 200 else "unavailable", "subgraph": runtime.name}
        return JSONResponse({**body, "checks": checks}, status_code=status)

    app.add_route("/metrics", metrics_endpoint(metrics.registry), methods=["GET"])
    app.add_middleware(
        ObservedRequests,
        span_name=f"subgraph {runtime.name}",
        on_finish=lambda record: _finish_request(runtime.name, metrics, record),
        capture_body=True,
    )
    app.state.runtime = runtime
    app.state.metrics = metrics
    return app


async def readiness(runtime: SubgraphRuntime) -> dict[str, str]:
    """Each dependency's state: ``ok`` or why not (``database``; ``redis`` when used)."""
    checks: dict[str, str] = {}
    try:
        async with runtime.db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if runtime.settings.redis_url:
        try:
            import redis.asyncio as redis

            client = redis.Redis.from_url(runtime.settings.redis_url, socket_connect_timeout=2)
            try:
                await client.ping()
            finally:
                await client.aclose()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
    return checks


def _finish_request(name: str, metrics: SubgraphMetrics, record: RequestRecord) -> None:
    """Count the request and write its log line (operation name from the request body)."""
    operation = None
    if b'"operationName"' in record.body:
        with contextlib.suppress(ValueError):
            payload = orjson.loads(record.body)
            value = payload.get("operationName") if isinstance(payload, dict) else None
            operation = value if isinstance(value, str) else None
    ok = record.errors_body is None and record.status < 400
    seconds = record.seconds
    metrics.observe_request(operation=operation, ok=ok, seconds=seconds)
    log_request(
        service=name,
        request_id=record.request_id,
        trace_id=record.trace_id,
        method=record.method,
        path=record.path,
        status=record.status,
        operation=operation,
        outcome="ok" if ok else "error",
        duration_ms=round(seconds * 1000, 3),
    )
