"""The whole supergraph, started for end-to-end tests through the router over real HTTP.

``embedded_stack``: router + eight subgraphs in this process (SQLite files, in-process bus).
``distributed_stack``: one OS process per subgraph and one for the router, a PostgreSQL
database per subgraph (created here, dropped after) and Redis streams under a
namespace of this test run (deleted after).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from shared.auth import AUDIENCE, ISSUER
from shared.settings import SUBGRAPH_NAMES, Settings
from subgraphs.embedded import SUPERGRAPH_PATH, EmbeddedStack

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class RunningStack:
    """Where the router of a running stack answers."""

    router_url: str
    mode: str


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def embedded_stack(tmp_path: Path) -> AsyncIterator[RunningStack]:
    """Router and subgraphs in this process on free ports, fresh for one test."""
    async for running in _embedded(tmp_path):
        yield running


@pytest.fixture(scope="module")
async def shared_embedded_stack(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[RunningStack]:
    """One embedded stack for a whole module (tests that do not depend on each other's state)."""
    async for running in _embedded(tmp_path_factory.mktemp("embedded")):
        yield running


async def _embedded(data_dir: Path) -> AsyncIterator[RunningStack]:
    stack = EmbeddedStack(
        settings=Settings(data_dir=data_dir),
        router_port=0,
        subgraph_ports=dict.fromkeys(SUBGRAPH_NAMES, 0),
    )
    await stack.start()
    try:
        yield RunningStack(router_url=stack.router_url, mode="embedded")
    finally:
        await stack.stop()


async def _postgres_available() -> bool:
    try:
        import asyncpg

        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
        await conn.close()
        return True
    except Exception:
        return False


async def _redis_available() -> bool:
    try:
        import redis.asyncio as redis

        client = redis.Redis.from_url(REDIS_URL)
        await client.ping()
        await client.aclose()
        return True
    except Exception:
        return False


async def _wait_healthy(
    url: str, procs: list[subprocess.Popen[bytes]], timeout: float = 60
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient() as client:
        while asyncio.get_running_loop().time() < deadline:
            for proc in procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"process {proc.args} exited with {proc.returncode}")
            try:
                if (await client.get(url, timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(url)


@pytest.fixture
async def distributed_stack(tmp_path: Path) -> AsyncIterator[RunningStack]:
    """Subgraphs and router as separate processes on PostgreSQL and Redis."""
    if not await _postgres_available() or not await _redis_available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL and Redis must be running in CI")
        pytest.skip("PostgreSQL or Redis is not running")
    import asyncpg
    import redis.asyncio as redis

    run_id = uuid.uuid4().hex[:10]
    databases = {name: f"pizza_t{run_id}_{name}" for name in SUBGRAPH_NAMES}
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    for database in databases.values():
        await admin.execute(f'CREATE DATABASE "{database}"')
    ports = {name: free_port() for name in SUBGRAPH_NAMES}
    urls = {name: f"http://127.0.0.1:{port}/graphql" for name, port in ports.items()}
    env = {
        **os.environ,
        "PIZZA_MODE": "distributed",
        "PIZZA_DATABASE_URL_TEMPLATE": f"postgresql+asyncpg://postgres@127.0.0.1:5432/pizza_t{run_id}_{{name}}",
        "PIZZA_REDIS_URL": REDIS_URL,
        "PIZZA_BUS_NAMESPACE": f"pizza-test-{run_id}",
        "PIZZA_SUBGRAPH_URLS": json.dumps(urls),
        "PIZZA_DATA_DIR": str(tmp_path),
        "PIZZA_ROUTER_CLAIMS_SECRET": uuid.uuid4().hex * 2,
    }
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for name in SUBGRAPH_NAMES:
            log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed below
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "subgraphs", name, "--port", str(ports[name])],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        for name in SUBGRAPH_NAMES:
            await _wait_healthy(f"http://127.0.0.1:{ports[name]}/health", procs)
        router_port = free_port()
        config = tmp_path / "router.yaml"
        jwks = {
            "url": f"http://127.0.0.1:{ports['users']}/.well-known/jwks.json",
            "issuer": ISSUER,
            "audiences": [AUDIENCE],
            "algorithms": ["ES256"],
        }
        router_yaml = {
            "override_subgraph_url": urls,
            "authentication": {"router": {"jwt": {"jwks": [jwks]}}},
        }
        config.write_text(json.dumps(router_yaml), encoding="utf-8")
        log = open(tmp_path / "router.log", "wb")  # noqa: SIM115 - closed below
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "router",
                    "--supergraph",
                    str(SUPERGRAPH_PATH),
                    "--config",
                    str(config),
                    "--port",
                    str(router_port),
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        await _wait_healthy(f"http://127.0.0.1:{router_port}/health", procs)
        yield RunningStack(router_url=f"http://127.0.0.1:{router_port}/graphql", mode="distributed")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()
        for database in databases.values():
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await admin.close()
        client = redis.Redis.from_url(REDIS_URL)
        keys = [key async for key in client.scan_iter(match=f"pizza-test-{run_id}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture(params=["embedded", "distributed"])
def stack(request: pytest.FixtureRequest) -> RunningStack:
    """The golden path runs twice: embedded and distributed."""
    return request.getfixturevalue(f"{request.param}_stack")
