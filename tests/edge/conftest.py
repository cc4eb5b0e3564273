"""Fixtures for the request edge: routers with edge settings in front of the four test subgraphs.

The subgraphs (tests/router/subgraphs) run once per session under uvicorn threads; each
``edge_router(**router_yaml)`` starts a router with those ``router.yaml`` sections on the
committed test supergraph (tests/router/fixtures), so no composition step is needed.
``redis_namespace`` gives a test its own key prefix in the local Redis and deletes the keys
afterwards (the test is skipped when Redis is not running, and fails in CI).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from router.config import RouterConfig
from router.server import create_app
from tests.router.conftest import SUBGRAPH_MODULES, ThreadedServer, free_port
from tests.router.subgraphs.recording import RequestLog, recording_app

FIXTURE_SUPERGRAPH = (
    Path(__file__).resolve().parents[1] / "router" / "fixtures" / "supergraph.graphql"
)
REDIS_URL = "redis://127.0.0.1:6379/0"
JSON_HEADERS = {"content-type": "application/json"}
TRACE_MARKERS = ("Traceback", 'File "', "SELECT ", "INSERT ", "sqlalchemy", "asyncpg")


@pytest.fixture(scope="session")
def edge_log() -> RequestLog:
    """Requests the edge tests' subgraphs received."""
    return RequestLog()


@pytest.fixture(scope="session")
def edge_subgraphs(edge_log: RequestLog) -> Iterator[dict[str, str]]:
    """The four test subgraphs over HTTP; name -> URL."""
    servers = {
        name: ThreadedServer(
            recording_app(service=name, schema=module.schema, log=edge_log), free_port()
        ).start()
        for name, module in SUBGRAPH_MODULES.items()
    }
    yield {name: f"{server.url}/graphql" for name, server in servers.items()}
    for server in servers.values():
        server.stop()


class EdgeRouter:
    """A running router: its ``/graphql`` URL and an HTTP client."""

    def __init__(self, server: ThreadedServer, http: httpx.Client) -> None:
        self.server = server
        self.url = f"{server.url}/graphql"
        self.http = http

    def post(self, body: Any, **kwargs: Any) -> httpx.Response:
        """POST a JSON body (object or batch array)."""
        return self.http.post(self.url, json=body, **kwargs)

    def get(self, params: dict[str, str], headers: dict[str, str] | None = None) -> httpx.Response:
        """GET with query parameters (and the CSRF preflight header unless told otherwise)."""
        sent = {"apollo-require-preflight": "true"} if headers is None else headers
        return self.http.get(self.url, params=params, headers=sent)


RouterFactory = Callable[..., EdgeRouter]


@pytest.fixture
def edge_router(edge_subgraphs: dict[str, str]) -> Iterator[RouterFactory]:
    """Start routers with ``router.yaml`` sections (keyword arguments); stopped after the test."""
    started: list[ThreadedServer] = []
    clients: list[httpx.Client] = []

    def start(*, partner_policy: Any = None, **sections: Any) -> EdgeRouter:
        config = RouterConfig.from_mapping({"override_subgraph_url": edge_subgraphs, **sections})
        app = create_app(
            supergraph_sdl=FIXTURE_SUPERGRAPH.read_text(encoding="utf-8"),
            config=config,
            partner_policy=partner_policy,
        )
        server = ThreadedServer(app, free_port()).start()
        started.append(server)
        client = httpx.Client(timeout=10)
        clients.append(client)
        return EdgeRouter(server, client)

    yield start
    for client in clients:
        client.close()
    for server in started:
        server.stop()


def _redis_up() -> bool:
    try:
        import redis

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
        client.close()
        return True
    except Exception:
        return False


@pytest.fixture
def redis_namespace() -> Iterator[str]:
    """A fresh key prefix in the local Redis; its keys are deleted after the test."""
    if not _redis_up():
        if os.environ.get("CI"):
            pytest.fail("Redis must be running in CI")
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    import redis

    namespace = f"edge-test-{uuid.uuid4().hex[:10]}"
    yield namespace
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{namespace}:*"))
    if keys:
        client.delete(*keys)
    client.close()


def assert_clean(body: Any) -> None:
    """Every error has a message and an upper-case code and leaks no internals."""
    items = body if isinstance(body, list) else [body]
    for item in items:
        for error in item.get("errors", ()):
            assert error["message"]
            assert error["extensions"]["code"].isupper()
    text = str(body)
    for marker in TRACE_MARKERS:
        assert marker not in text, text


def code_of(response: httpx.Response) -> str:
    """``extensions.code`` of the first error (after checking the body is clean)."""
    body = response.json()
    assert_clean(body)
    return str(body["errors"][0]["extensions"]["code"])
