"""Fixtures for router tests: four Strawberry subgraphs and routers in front of them, over real HTTP.

Subgraphs and routers run under uvicorn in background threads on free 127.0.0.1 ports for the
whole session; the supergraph is composed by ``@apollo/composition`` (tests/js/compose.mjs).
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from router.config import RouterConfig
from router.server import create_app
from tests.router.subgraphs import accounts, inventory, products, reviews
from tests.router.subgraphs.recording import RequestLog, recording_app

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_SCRIPT = ROOT / "tests" / "js" / "compose.mjs"
SUBGRAPH_MODULES = {
    "accounts": accounts,
    "products": products,
    "inventory": inventory,
    "reviews": reviews,
}


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThreadedServer:
    """A uvicorn server running an ASGI app in a daemon thread."""

    def __init__(self, app: Any, port: int) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="auto"
        )
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


def compose(services: list[dict[str, str]]) -> str:
    """Compose subgraph SDLs with @apollo/composition; the supergraph SDL."""
    if shutil.which("node") is None or not (ROOT / "tests" / "js" / "node_modules").exists():
        pytest.skip("node and tests/js/node_modules are needed to compose")
    completed = subprocess.run(
        ["node", str(COMPOSE_SCRIPT)],
        input=json.dumps(services),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result = json.loads(completed.stdout)
    if "errors" in result:
        raise AssertionError(f"composition failed: {result['errors']}")
    return str(result["supergraphSdl"])


@pytest.fixture(scope="session")
def request_log() -> RequestLog:
    """Every request the test subgraphs received."""
    return RequestLog()


@pytest.fixture(scope="session")
def subgraph_urls(request_log: RequestLog) -> Iterator[dict[str, str]]:
    """The four test subgraphs, served over HTTP; name → URL."""
    servers = {
        name: ThreadedServer(
            recording_app(service=name, schema=module.schema, log=request_log), free_port()
        ).start()
        for name, module in SUBGRAPH_MODULES.items()
    }
    yield {name: f"{server.url}/graphql" for name, server in servers.items()}
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def supergraph_sdl(subgraph_urls: dict[str, str]) -> str:
    """The supergraph composed from the test subgraphs' SDL."""
    return compose(
        [
            {"name": name, "url": subgraph_urls[name], "sdl": module.schema.as_str()}
            for name, module in SUBGRAPH_MODULES.items()
        ]
    )


def start_router(supergraph_sdl: str, config: RouterConfig) -> ThreadedServer:
    """A router on a free port in a background thread."""
    port = free_port()
    app = create_app(supergraph_sdl=supergraph_sdl, config=config)
    return ThreadedServer(app, port).start()


@pytest.fixture(scope="session")
def router_url(supergraph_sdl: str) -> Iterator[str]:
    """URL of ``/graphql`` on a router in front of the test subgraphs."""
    server = start_router(
        supergraph_sdl, RouterConfig(propagate_headers=("authorization", "x-tenant"))
    )
    yield f"{server.url}/graphql"
    server.stop()


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client for talking to routers."""
    with httpx.Client(timeout=10) as client:
        yield client


class RouterClient:
    """Posts GraphQL requests to a router and exposes the subgraph request log."""

    def __init__(self, http: httpx.Client, url: str, log: RequestLog) -> None:
        self.http = http
        self.url = url
        self.log = log

    def post(
        self, query: str, variables: dict[str, Any] | None = None, **extra: Any
    ) -> dict[str, Any]:
        """POST a query; the decoded JSON body (status 200 expected)."""
        body: dict[str, Any] = {"query": query, **extra}
        if variables is not None:
            body["variables"] = variables
        response = self.http.post(self.url, json=body)
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def router(http: httpx.Client, router_url: str, request_log: RequestLog) -> RouterClient:
    """Client for the main test router; the request log starts empty."""
    request_log.clear()
    return RouterClient(http, router_url, request_log)
