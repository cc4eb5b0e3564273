"""Shared facts for the deployment tests (offline, fast: no Docker engine, no cluster)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shared.settings import DEFAULT_PORTS, SUBGRAPH_NAMES

ROOT = Path(__file__).resolve().parents[2]
SERVICES: dict[str, int] = {"router": 4000, **DEFAULT_PORTS}
"""Every service and its port."""
assert tuple(SERVICES)[1:] == SUBGRAPH_NAMES

METRICS = {
    "router_requests_total",
    "router_request_duration_seconds_bucket",
    "router_subgraph_requests_total",
    "router_subgraph_request_duration_seconds_bucket",
    "router_errors_total",
    "router_breaker_state",
    "outbox_lag_seconds",
    "outbox_pending_events",
    "up",
}
"""The metrics contract written down in docs/deployment.md."""

SECRETS = {"pizza-auth", "pizza-database", "pizza-redis", "pizza-tls"}
"""Secrets the manifests reference; created outside the repository (docs/deployment.md)."""


def require_binary(name: str, package: str) -> str:
    """The path of ``name``; skip (locally) or fail (in CI) when it is missing."""
    path = shutil.which(name)
    if path is None:
        import os

        message = f"{name} not installed (Debian package {package}; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
