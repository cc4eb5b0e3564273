"""Server behaviour that needs no subgraph: unexpected failures, configuration, CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from router.config import RouterConfig
from router.gateway import Gateway
from tests.router.conftest import start_router

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "supergraph.graphql"

ROUTER_YAML = """
supergraph:
  listen: 0.0.0.0:4100
  query_planning:
    cache:
      in_memory:
        limit: 64
override_subgraph_url:
  products: http://127.0.0.1:4002/graphql
traffic_shaping:
  all:
    timeout: 5s
  subgraphs:
    inventory:
      timeout: 250ms
headers:
  all:
    request:
      - propagate:
          named: X-Tenant
"""


def test_unexpected_failure_is_a_generic_internal_error(
    monkeypatch: pytest.MonkeyPatch, http: httpx.Client
) -> None:
    async def explode(self: Gateway, **_: object) -> dict[str, object]:
        raise RuntimeError("secret detail")

    server = start_router(FIXTURE.read_text(), RouterConfig())
    monkeypatch.setattr(Gateway, "execute", explode)
    try:
        response = http.post(f"{server.url}/graphql", json={"query": "{ me { name } }"})
    finally:
        server.stop()
    assert response.status_code == 500
    assert response.json() == {
        "errors": [
            {"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ]
    }
    assert "secret" not in response.text and "Traceback" not in response.text


def test_router_yaml_uses_apollo_router_names(tmp_path: Path) -> None:
    path = tmp_path / "router.yaml"
    path.write_text(ROUTER_YAML)
    config = RouterConfig.from_yaml(path, environ={})
    assert (config.host, config.port) == ("0.0.0.0", 4100)
    assert config.plan_cache_size == 64
    assert config.override_subgraph_url == {"products": "http://127.0.0.1:4002/graphql"}
    assert config.timeout_for("products") == 5.0
    assert config.timeout_for("inventory") == 0.25
    assert config.headers_for("accounts") == ("authorization", "x-tenant")


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "router.yaml"
    path.write_text(ROUTER_YAML)
    config = RouterConfig.from_yaml(
        path, environ={"ROUTER_PORT": "4200", "ROUTER_SUBGRAPH_URL_INVENTORY": "http://inv/graphql"}
    )
    assert config.port == 4200
    assert config.override_subgraph_url["inventory"] == "http://inv/graphql"
    assert config.override_subgraph_url["products"] == "http://127.0.0.1:4002/graphql"


def test_default_timeout_is_thirty_seconds() -> None:
    assert RouterConfig().timeout_for("anything") == 30.0


def test_cli_prints_a_plan(tmp_path: Path) -> None:
    query = tmp_path / "query.graphql"
    query.write_text("{ me { reviews { body } } }")
    completed = subprocess.run(
        [sys.executable, "-m", "router", "plan", "--supergraph", str(FIXTURE), str(query)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=30,
    )
    assert completed.stdout.startswith("QueryPlan {\n  Sequence {")
    assert 'Fetch(service: "reviews")' in completed.stdout


def test_cli_help_documents_the_commands() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "router", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
    )
    assert completed.returncode == 0
    for word in ("plan", "compose", "--supergraph", "override_subgraph_url", "traffic_shaping"):
        assert word in completed.stdout


def test_expose_query_plan_is_read_from_apollo_router_plugins(tmp_path) -> None:
    path = tmp_path / "router.yaml"
    path.write_text("plugins:\n  experimental.expose_query_plan: true\n", encoding="utf-8")
    assert RouterConfig.from_yaml(path, environ={}).expose_query_plan is True
    assert RouterConfig().expose_query_plan is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("type Query { a: Int }", "is not a valid supergraph"),
        ("garbage {{", "is not a valid supergraph"),
        (None, "cannot read the supergraph file"),
    ],
)
def test_cli_refuses_a_bad_supergraph_file_with_a_clear_message(tmp_path, content, message) -> None:
    path = tmp_path / "supergraph.graphql"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "router", "--supergraph", str(path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
