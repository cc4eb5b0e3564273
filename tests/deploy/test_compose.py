"""docker-compose.yml runs the whole distributed mode; `docker-compose config` accepts it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from shared.auth import AUDIENCE, ISSUER
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


CLAIMS_SECRET = "c" * 64
PRIVATE_KEYS = json.dumps({"20261125T000000-test": "-----BEGIN PRIVATE KEY-----\nnot-a-key\n"})
AUTH_ENV = {"PIZZA_ROUTER_CLAIMS_SECRET": CLAIMS_SECRET, "PIZZA_JWT_PRIVATE_KEYS": PRIVATE_KEYS}
"""What docs/deployment.md tells operators to export (ADR 0007)."""


@pytest.fixture(scope="module")
def config() -> dict:
    """The file as docker-compose resolves it (interpolated, anchors merged)."""
    result = compose("--profile", "observability", "config", env=AUTH_ENV)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_config_is_valid():
    result = compose("config", "-q", env=AUTH_ENV)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("variable", sorted(AUTH_ENV))
def test_auth_variables_are_required_not_defaulted(variable):
    """Without them compose refuses to start (no dev claims secret, no key file per replica)."""
    result = compose("config", "-q", env={k: v for k, v in AUTH_ENV.items() if k != variable})
    assert result.returncode != 0
    assert variable in result.stderr


def test_the_hs256_secret_is_gone():
    text = COMPOSE.read_text(encoding="utf-8")
    assert "PIZZA_AUTH_SECRET" not in text, "unused since ADR 0007"


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


def test_router_and_subgraphs_share_the_claims_secret(config):
    services = config["services"]
    for name in SERVICES:
        env = services[name].get("environment") or {}
        assert env.get("PIZZA_ROUTER_CLAIMS_SECRET") == CLAIMS_SECRET, name


def test_only_users_gets_the_private_keys(config):
    for name, service in config["services"].items():
        env = service.get("environment") or {}
        if name == "users":
            assert env["PIZZA_JWT_PRIVATE_KEYS"] == PRIVATE_KEYS
        else:
            assert "PIZZA_JWT_PRIVATE_KEYS" not in env, name
        assert "PIZZA_AUTH_SECRET" not in env, name


def test_router_verifies_tokens_against_users_jwks(config):
    """The router's config (mounted as its router.yaml) trusts users' JWKS: ES256 only."""
    router = config["services"]["router"]
    mounted = {}
    for volume in router["volumes"]:  # Compose v1 prints "source:target:ro", v2 mappings
        if isinstance(volume, str):
            source, target = volume.split(":")[:2]
            volume = {"source": source, "target": target}
        mounted[volume["target"]] = volume["source"]
    assert Path(mounted["/etc/pizza/router.yaml"]) == ROOT / "deploy" / "router.compose.yaml"
    assert "/etc/pizza/router.yaml" in router["command"]
    router_yaml = yaml.safe_load((ROOT / "deploy" / "router.compose.yaml").read_text("utf-8"))
    (jwks,) = router_yaml["authentication"]["router"]["jwt"]["jwks"]
    assert jwks["url"] == "http://users:4001/.well-known/jwks.json"
    assert jwks["issuer"] == ISSUER and jwks["audiences"] == [AUDIENCE]
    assert jwks["algorithms"] == ["ES256"]


def test_subgraphs_keep_the_claims_header_only(config):
    """Behind our router subgraphs never verify end-user tokens themselves (ADR 0007)."""
    for name in SUBGRAPH_NAMES:
        env = config["services"][name]["environment"]
        assert "PIZZA_TRUST_JWT_FROM_JWKS_URL" not in env, name


def test_images_are_pinned(config):
    for name, service in config["services"].items():
        image = service["image"]
        assert not image.endswith(":latest") and ":" in image, (name, image)
