"""The gateways under test and how each one is started.

- ``ours``: ``python -m router --workers N`` (uvicorn workers sharing the port).
- ``apollo``: ``@apollo/gateway`` 2.14 on ``@apollo/server`` 5 (``bench/js/apollo_gateway.mjs``),
  N node cluster workers, as the public gateways benchmark runs it.
- ``hive``: the Hive Gateway CLI (``@graphql-hive/gateway`` 2.15) with ``--fork N`` and JIT
  (``bench/js/hive.config.mjs``).
- ``ours+dedup`` and ``hive+dedup``: the same with inbound in-flight request deduplication
  (identical concurrent requests share one execution): ``--deduplicate-inflight`` for ours,
  ``inboundInflightRequestDeduplication`` for Hive, which is how the public gateways benchmark
  configures Hive Gateway. ``@apollo/gateway`` has no such option.
Each gets the same supergraph file, the same port and the same number of processes.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bench.load import Service

ROOT = Path(__file__).resolve().parents[1]
JS_DIR = ROOT / "bench" / "js"
GATEWAY_NAMES = ("ours", "apollo", "hive", "ours+dedup", "hive+dedup")
LABELS = {
    "ours": "ours (Python)",
    "apollo": "@apollo/gateway",
    "hive": "Hive Gateway",
    "ours+dedup": "ours, in-flight dedup",
    "hive+dedup": "Hive Gateway, in-flight dedup",
}


@dataclass(frozen=True, slots=True)
class GatewaySpec:
    """How to start one gateway."""

    name: str
    argv: tuple[str, ...]
    cwd: Path
    env: dict[str, str]

    @property
    def label(self) -> str:
        """The name printed in tables."""
        return LABELS[self.name]


def gateway_spec(
    name: str, *, supergraph: Path, port: int, processes: int, router_config: Path | None = None
) -> GatewaySpec:
    """The command line of gateway ``name`` serving ``supergraph`` on ``127.0.0.1:port``.

    ``router_config`` is a ``router.yaml`` for ours (the Node gateways take none).
    """
    supergraph = supergraph.resolve()
    base, _, variant = name.partition("+")
    dedup = variant == "dedup"
    if variant not in ("", "dedup") or (dedup and base == "apollo"):
        raise ValueError(f"unknown gateway {name!r}")
    if base == "ours":
        argv = (sys.executable, "-m", "router", "--supergraph", str(supergraph))
        argv += ("--host", "127.0.0.1", "--port", str(port), "--workers", str(processes))
        argv += ("--deduplicate-inflight",) if dedup else ()
        argv += ("--config", str(router_config)) if router_config else ()
        return GatewaySpec(name, argv, ROOT, {})
    if base == "apollo":
        argv = ("node", "apollo_gateway.mjs", str(supergraph), str(port))
        return GatewaySpec(name, argv, JS_DIR, {"FORK": str(processes)})
    if base == "hive":
        argv = (str(JS_DIR / "node_modules" / ".bin" / "hive-gateway"), "supergraph")
        argv += (str(supergraph), "--host", "127.0.0.1", "--port", str(port))
        argv += ("--fork", str(processes), "--config-path", "hive.config.mjs")
        env = {"NODE_ENV": "production", "BENCH_HIVE_DEDUP": "1" if dedup else "0"}
        return GatewaySpec(name, argv, JS_DIR, env)
    raise ValueError(f"unknown gateway {name!r}")


def start_gateway(spec: GatewaySpec, *, log_dir: Path, tag: str = "") -> Service:
    """Start the gateway's process group (not yet ready)."""
    return Service(f"{spec.name}{tag}", spec.argv, cwd=spec.cwd, env=spec.env, log_dir=log_dir)


def js_installed() -> bool:
    """Whether ``bench/js/node_modules`` holds the Node gateways."""
    return (JS_DIR / "node_modules" / ".bin" / "hive-gateway").exists() and (
        JS_DIR / "node_modules" / "@apollo" / "gateway"
    ).exists()
