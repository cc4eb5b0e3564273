"""docker-compose.yml runs the whole distributed mode; `docker-compose config` accepts it."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from shared.settings import SUBGRAPH_NAMES
from tests.deploy.conftest import ROOT, SERVICES, require_binary

COMPOSE = ROOT / "docker-compose.yml"


def compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    binary = require_binary("docker-compose", "docker-compose")
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PIZZA_", "POSTGRES_"))}
    environ.update(env or {})
    return subprocess.run(
        [binary, "--project-directory", str(ROOT), "-f", str(COMPOSE), *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def config() -> dict:
    """The file as docker-compose resolves it (interpolated, anchors merged)."""
    result = compose("--profile", "observability", "config", env={"PIZZA_AUTH_SECRET": "s" * 32})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_config_is_valid():
    result = compose("config", "-q", env={"PIZZA_AUTH_SECRET": "s" * 32})
    assert result.returncode == 0, result.stderr


def test_auth_secret_is_required_not_defaulted():
    result = compose("config", "-q")
    assert result.returncode != 0
    assert "PIZZA_AUTH_SECRET" in result.stderr


def test_every_service_runs_from_its_own_dockerfile(config):
    services = config["services"]
    for name, port in SERVICES.items():
        service = services[name]
        assert service["build"]["dockerfile"] == f"docker/{name}.Dockerfile"
        assert str(port) in service["command"]
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]


def test_subgraphs_have_their_own_database_redis_and_peer_urls(config):
    services = config["services"]
    for name in SUBGRAPH_NAMES:
        env = services[name]["environment"]
        assert env["PIZZA_DATABASE_URL_TEMPLATE"].startswith("postgresql+asyncpg://")
        assert env["PIZZA_DATABASE_URL_TEMPLATE"].endswith("/pizza_{name}")
        assert env["PIZZA_REDIS_URL"] == "redis://redis:6379/0"
        urls = json.loads(env["PIZZA_SUBGRAPH_URLS"])
        assert urls == {n: f"http://{n}:{SERVICES[n]}/graphql" for n in SUBGRAPH_NAMES}
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    init = (ROOT / "deploy" / "postgres-init.sql").read_text(encoding="utf-8")
    for name in SUBGRAPH_NAMES:
        assert f"CREATE DATABASE pizza_{name};" in init


def test_router_replicas_behind_one_edge(config):
    services = config["services"]
    router = services["router"]
    assert router["deploy"]["replicas"] >= 2
    assert "ports" not in router, "replicas cannot share a published port; the edge publishes"
    assert all(
        services["router"]["depends_on"][n]["condition"] == "service_healthy"
        for n in SUBGRAPH_NAMES
    )
    router_yaml = yaml.safe_load((ROOT / "deploy" / "router.compose.yaml").read_text("utf-8"))
    assert router_yaml["override_subgraph_url"] == {
        n: f"http://{n}:{SERVICES[n]}/graphql" for n in SUBGRAPH_NAMES
    }
    assert [p["target"] for p in services["edge"]["ports"]] == [4000]
    assert "server router:4000 resolve" in (ROOT / "deploy/compose/nginx.conf").read_text("utf-8")


def test_router_gets_no_secrets(config):
    assert "PIZZA_AUTH_SECRET" not in (config["services"]["router"].get("environment") or {})


def test_images_are_pinned(config):
    for name, service in config["services"].items():
        image = service["image"]
        assert not image.endswith(":latest") and ":" in image, (name, image)
