"""Fixtures for the differential suite: every case's subgraphs, our router and Apollo's gateway.

Three servers for the whole session, whatever the number of cases:
- one uvicorn server (thread) hosting every generic subgraph at ``/<case>/<subgraph>/graphql``;
- one uvicorn server (thread) hosting one router per case at ``/<case>/graphql``;
- one node process (``tests/js/gateway.mjs``) hosting one ``ApolloGateway`` per case at
  ``/<case>/graphql``; it exits when the session ends or its stdin closes.
All supergraphs are composed by ``@apollo/composition`` in a single node process.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from graphql import InterfaceTypeDefinitionNode, ObjectTypeDefinitionNode, parse

from router.config import RouterConfig
from router.server import create_app
from tests.differential.cases import ALL_CASES
from tests.differential.harness import Case
from tests.differential.subgraph import GenericSubgraph, SubgraphHost

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "tests" / "js"
COMPOSE_BATCH = ROOT / "tests" / "composition" / "compose_batch.mjs"
GATEWAY_SCRIPT = JS / "gateway.mjs"
CASES: dict[str, Case] = {case.name: case for case in ALL_CASES}


def _need_node() -> None:
    if shutil.which("node") is None or not (JS / "node_modules" / "@apollo" / "gateway").exists():
        pytest.skip("node and tests/js/node_modules (@apollo/gateway) are needed")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThreadedServer:
    """A uvicorn server running an ASGI app in a daemon thread, on a free port."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.url = ""
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def __enter__(self) -> ThreadedServer:
        for _ in range(3):  # another process may take the free port before uvicorn binds it
            port = free_port()
            config = uvicorn.Config(
                self.app,
                host="127.0.0.1",
                port=port,
                log_level="critical",
                lifespan="on",
                access_log=False,
            )
            self.server = uvicorn.Server(config)
            self.url = f"http://127.0.0.1:{port}"
            self.thread = threading.Thread(target=self.server.run, daemon=True)
            self.thread.start()
            deadline = time.monotonic() + 20
            while not self.server.started and self.thread.is_alive():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server on {self.url} did not start")
                time.sleep(0.01)
            if self.server.started:
                return self
        raise RuntimeError("no server could start on a free port")

    def __exit__(self, *_: object) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(timeout=10)


def implementations(case: Case) -> dict[str, set[str]]:
    """Interfaces each object type implements in any subgraph of ``case``."""
    found: dict[str, set[str]] = {}
    for text in case.subgraphs.values():
        for definition in parse(text).definitions:
            if isinstance(definition, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
                found.setdefault(definition.name.value, set()).update(
                    i.name.value for i in definition.interfaces or ()
                )
    return found


@pytest.fixture(scope="session")
def subgraph_host() -> Iterator[tuple[SubgraphHost, str]]:
    """Every case's subgraphs behind one server; the host and its base URL."""
    host = SubgraphHost()
    for case in ALL_CASES:
        implemented = implementations(case)
        for name, text in case.subgraphs.items():
            host.add(
                case.name,
                GenericSubgraph(name=name, sdl=text, implements=implemented, data=case.data),
            )
    with ThreadedServer(host) as server:
        yield host, server.url


@dataclass(slots=True)
class Composed:
    """Apollo's composition of every case: SDL per case, or the composition errors."""

    sdl: dict[str, str]
    errors: dict[str, Any]


def subgraph_definitions(case: Case, base_url: str) -> list[dict[str, str]]:
    """The case's subgraphs as composition input, routed to the subgraph host."""
    return [
        {"name": name, "url": f"{base_url}/{case.name}/{name}/graphql", "sdl": text}
        for name, text in case.subgraphs.items()
    ]


@pytest.fixture(scope="session")
def composed(subgraph_host: tuple[SubgraphHost, str]) -> Composed:
    """Compose every case with ``@apollo/composition`` in one node process."""
    _need_node()
    _, base_url = subgraph_host
    request = {case.name: subgraph_definitions(case, base_url) for case in ALL_CASES}
    completed = subprocess.run(
        ["node", str(COMPOSE_BATCH)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = json.loads(completed.stdout)
    return Composed(
        sdl={k: v["supergraphSdl"] for k, v in results.items() if "supergraphSdl" in v},
        errors={k: v["errors"] for k, v in results.items() if "errors" in v},
    )


@pytest.fixture(scope="session")
def apollo_url(composed: Composed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of the node process serving one ``@apollo/gateway`` per composed case."""
    directory = tmp_path_factory.mktemp("supergraphs")
    manifest: dict[str, str] = {}
    for name, text in composed.sdl.items():
        path = directory / f"{name}.graphql"
        path.write_text(text, encoding="utf-8")
        manifest[name] = str(path)
    manifest_path = directory / "manifest.json"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    log_path = directory / "gateway.log"
    process, port = _start_gateway(manifest_path, log_path)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


def _start_gateway(manifest_path: Path, log_path: Path) -> tuple[subprocess.Popen[str], int]:
    """Start ``gateway.mjs`` on a free port (retried: another process may take the port)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("APOLLO_")}
    for _ in range(3):
        port = free_port()
        with log_path.open("w", encoding="utf-8") as log:
            process = subprocess.Popen(
                [
                    "node",
                    str(GATEWAY_SCRIPT),
                    "--port",
                    str(port),
                    "--manifest",
                    str(manifest_path),
                ],
                cwd=JS,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=env,
            )
        if _first_line(process, timeout=60).startswith("ready"):
            return process, port
        stop_process(process)
    raise RuntimeError(f"@apollo/gateway did not start: {log_path.read_text()[-2000:]}")


def _first_line(process: subprocess.Popen[str], *, timeout: float) -> str:
    """The first line the process prints, or ``""`` if it prints none within ``timeout``."""
    lines: list[str] = []
    stdout = process.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=timeout)
    return lines[0] if lines else ""


def stop_process(process: subprocess.Popen[str]) -> None:
    """Close the process's stdin (it exits by itself), killing it if it lingers."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    if process.stdout is not None:
        process.stdout.close()


class RouterHost:
    """ASGI app dispatching ``/<case>/...`` to that case's router app."""

    def __init__(self, apps: dict[str, Any]) -> None:
        self.apps = apps

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    for app in self.apps.values():
                        await app.state.gateway.start()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    for app in self.apps.values():
                        await app.state.gateway.stop()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        _, case, rest = scope["path"].split("/", 2)
        await self.apps[case](
            {**scope, "path": "/" + rest, "raw_path": b"/" + rest.encode()}, receive, send
        )


@pytest.fixture(scope="session")
def router_url(composed: Composed) -> Iterator[str]:
    """Base URL of the server hosting one of our routers per composed case."""
    apps = {
        name: create_app(supergraph_sdl=text, config=RouterConfig())
        for name, text in composed.sdl.items()
    }
    with ThreadedServer(RouterHost(apps)) as server:
        yield server.url


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """A plain HTTP client."""
    with httpx.Client(timeout=30) as client:
        yield client
