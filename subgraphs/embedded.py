"""Embedded mode: the router and all eight subgraphs in one process, no external services.

Enters: settings (SQLite files under ``PIZZA_DATA_DIR``, in-process bus unless
``PIZZA_REDIS_URL`` is set) and the composed ``schema/supergraph.graphql``.
Leaves: each subgraph on its own port (4001..4008) and the router on 4000, the
router reaching the subgraphs over HTTP exactly as in distributed mode (HTTPS on every
listener when ``PIZZA_TLS_CERT_FILE``/``PIZZA_TLS_KEY_FILE`` are set; ADR 0011).
``python -m subgraphs.embedded`` runs it until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import uvicorn
import uvloop

from router.auth.config import AuthConfig, JwksSource, JwtConfig
from router.config import RouterConfig
from router.edge.config import EdgeConfig, PersistedQueriesConfig
from router.observability.config import SubgraphTraffic, TrafficConfig
from router.server import WEBSOCKET_PROTOCOL
from router.server import create_app as create_router_app
from router.subscriptions import SubscriptionOptions
from shared.auth import AUDIENCE, ISSUER
from shared.bus import InProcessBus
from shared.settings import SUBGRAPH_NAMES, Settings, get_settings
from shared.subgraph import SubgraphRuntime
from subgraphs import create_app

SUPERGRAPH_PATH = Path(__file__).resolve().parent.parent / "schema" / "supergraph.graphql"
PERSISTED_QUERIES_PATH = SUPERGRAPH_PATH.with_name("persisted-queries.json")
log = logging.getLogger(__name__)
# Their events are whole states: a tracker joining a shared subscription gets the latest one.
STATE_SUBSCRIPTIONS = frozenset({"Subscription.orderUpdated", "Subscription.driverPosition"})


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the stack (several share a loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def router_auth_config(settings: Settings) -> AuthConfig:
    """The router verifies users' tokens against users' JWKS and signs claims for subgraphs."""
    source = JwksSource(
        url=settings.users_jwks_url(), issuer=ISSUER, audiences=(AUDIENCE,), algorithms=("ES256",)
    )
    return AuthConfig(jwt=JwtConfig(jwks=(source,)), claims_secret=settings.router_claims_secret)


class EmbeddedStack:
    """Starts and stops the subgraphs and the router inside the running event loop."""

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        supergraph_sdl: str | None = None,
        router_port: int | None = None,
        subgraph_ports: dict[str, int] | None = None,
        log_level: str = "warning",
    ) -> None:
        self.settings = settings or get_settings()
        self.supergraph_sdl = supergraph_sdl or SUPERGRAPH_PATH.read_text(encoding="utf-8")
        self.router_port = self.settings.router_port if router_port is None else router_port
        self.subgraph_ports = subgraph_ports or {
            name: self.settings.subgraph_port(name) for name in SUBGRAPH_NAMES
        }
        self.log_level = log_level
        self.bus = InProcessBus()
        self.runtimes: dict[str, SubgraphRuntime] = {}
        self.subgraph_urls: dict[str, str] = {}
        self.router_url = ""
        self.router_app: object | None = None
        self._servers: list[tuple[_Server, asyncio.Task[None]]] = []
        self._subgraph_servers: dict[str, tuple[object, int, _Server]] = {}

    async def _serve(self, app: object, port: int, *, lifespan: str = "on") -> int:
        config = uvicorn.Config(
            app,
            host=self.settings.host,
            port=port,
            log_level=self.log_level,
            lifespan=lifespan,
            ws=WEBSOCKET_PROTOCOL,
            **self.settings.uvicorn_tls(),
        )
        server = _Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it
                raise RuntimeError(f"server on port {port} stopped during startup")
            await asyncio.sleep(0.02)
        self._servers.append((server, task))
        return server.servers[0].sockets[0].getsockname()[1]

    async def start(self) -> None:
        """Start every subgraph (migrations, demo data), then the router."""
        # Ports are fixed before anything starts so that subgraphs calling each other
        # (orders -> menu, geo) know where their peers are.
        ports = {
            name: port or _free_port(self.settings.host)
            for name, port in self.subgraph_ports.items()
        }
        scheme = "https" if self.settings.uvicorn_tls() else "http"
        self.subgraph_urls = {
            name: f"{scheme}://{self.settings.host}:{port}/graphql" for name, port in ports.items()
        }
        self.settings = self.settings.model_copy(
            update={"subgraph_urls": {**self.subgraph_urls, **self.settings.subgraph_urls}}
        )
        shared_bus = None if self.settings.redis_url else self.bus
        for name in SUBGRAPH_NAMES:
            runtime = SubgraphRuntime.create(name, settings=self.settings, bus=shared_bus)
            self.runtimes[name] = runtime
            subgraph_app = create_app(name, runtime)
            await self._serve(subgraph_app, ports[name])
            self._subgraph_servers[name] = (subgraph_app, ports[name], self._servers[-1][0])
        config = RouterConfig(
            host=self.settings.host,
            port=self.router_port,
            override_subgraph_url=dict(self.subgraph_urls),
            timeout=self.settings.subgraph_timeout_seconds,
            subgraph_ca=self.settings.tls_ca_file or None,
            auth=router_auth_config(self.settings),
            expose_query_plan=True,  # local development: plans on request (Apollo-Expose-Query-Plan)
            subscription=SubscriptionOptions(replay_latest=STATE_SUBSCRIPTIONS),
            # The menu is served from the last good answer for 5 minutes if menu is down.
            traffic=TrafficConfig(subgraphs={"menu": SubgraphTraffic(stale_if_error=300.0)}),
            # Persisted operations of schema/persisted-queries.json by id (partners are held to it).
            edge=EdgeConfig(
                persisted_queries=PersistedQueriesConfig(
                    enabled=True, local_manifests=(str(PERSISTED_QUERIES_PATH),)
                )
            ),
        )
        app = create_router_app(supergraph_sdl=self.supergraph_sdl, config=config)
        self.router_app = app
        port = await self._serve(app, self.router_port)
        self.router_url = f"{scheme}://{self.settings.host}:{port}/graphql"

    async def restart_subgraph(self, name: str, *, downtime: float = 0.5) -> None:
        """Stop one subgraph's server (its connections drop), wait, serve it again on its port.

        The runtime (database, bus, consumers) stays: only the listener goes away, as when a
        subgraph process restarts behind its address.
        """
        app, port, server = self._subgraph_servers[name]
        entry = next(e for e in self._servers if e[0] is server)
        server.should_exit = True
        await asyncio.wait_for(entry[1], timeout=10)
        self._servers.remove(entry)
        await asyncio.sleep(downtime)
        await self._serve(app, port, lifespan="off")
        self._subgraph_servers[name] = (app, port, self._servers[-1][0])

    async def stop(self) -> None:
        """Stop the router first, then the subgraphs (each finishes its requests), then the bus."""
        for server, task in reversed(self._servers):
            server.should_exit = True
            try:
                await asyncio.wait_for(task, timeout=10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        self._servers.clear()
        await self.bus.stop()


async def run_forever(stack: EmbeddedStack) -> None:
    """Run the stack until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stack.start()
    print(f"\n  router (GraphQL)  {stack.router_url}")
    for name, url in stack.subgraph_urls.items():
        print(f"  {name:<17} {url}")
    print("\n  Ctrl-C stops everything.\n", flush=True)
    await stop.wait()
    print("stopping...", flush=True)
    await stack.stop()


def main() -> None:
    """Entry point of ``make run``."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not SUPERGRAPH_PATH.exists():
        raise SystemExit("schema/supergraph.graphql is missing: run `make compose` first.")
    # uvloop (uvicorn[standard] brings it), as uvicorn picks for the distributed processes.
    uvloop.run(run_forever(EmbeddedStack(log_level="warning")))


if __name__ == "__main__":
    main()
