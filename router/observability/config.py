"""Observability and fault-tolerance settings of the router.

In: the ``router.yaml`` mapping. Apollo Router names where Apollo has the feature:
``telemetry.exporters.tracing.otlp.{enabled,endpoint}``,
``telemetry.exporters.tracing.common.service_name``, ``traffic_shaping.{all,subgraphs.<name>}``
with ``experimental_retry``. Ours (Apollo Router has no equivalent):
``traffic_shaping.*.circuit_breaker`` and ``traffic_shaping.*.stale_if_error``; and
``telemetry.instrumentation.metrics.max_operation_names``. Environment: ``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_SERVICE_NAME``. Out: frozen ``TelemetryConfig`` and ``TrafficConfig``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from shared.telemetry import OTLP_ENDPOINT_ENV, SERVICE_NAME_ENV


@dataclass(frozen=True, slots=True)
class TelemetryConfig:
    """Tracing export and metric label bounds."""

    tracing: bool = False
    """Record spans and send ``traceparent`` to subgraphs (on with an OTLP endpoint)."""
    otlp_endpoint: str | None = None
    """OTLP/HTTP collector, e.g. ``http://otel-collector:4318`` (``/v1/traces`` is added)."""
    service_name: str = "router"
    max_operation_names: int = 200
    """Distinct operation names kept as metric labels; later ones are counted as ``other``."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TelemetryConfig:
        telemetry = data.get("telemetry") or {}
        tracing = (telemetry.get("exporters") or {}).get("tracing") or {}
        otlp = tracing.get("otlp") or {}
        values: dict[str, Any] = {}
        if otlp.get("endpoint") and otlp.get("enabled", True):
            values["tracing"] = True
            values["otlp_endpoint"] = str(otlp["endpoint"])
        service = (tracing.get("common") or {}).get("service_name")
        if service:
            values["service_name"] = str(service)
        metrics = (telemetry.get("instrumentation") or {}).get("metrics") or {}
        if metrics.get("max_operation_names"):
            values["max_operation_names"] = int(metrics["max_operation_names"])
        return cls(**values)

    def with_env(self, environ: Mapping[str, str]) -> TelemetryConfig:
        changes: dict[str, Any] = {}
        if environ.get(OTLP_ENDPOINT_ENV):
            changes.update(tracing=True, otlp_endpoint=environ[OTLP_ENDPOINT_ENV])
        if environ.get(SERVICE_NAME_ENV):
            changes["service_name"] = environ[SERVICE_NAME_ENV]
        return replace(self, **changes) if changes else self


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """Circuit breaker of one subgraph (``traffic_shaping.*.circuit_breaker``)."""

    enabled: bool = True
    failure_threshold: int = 5
    """Consecutive failed fetches (after retries) that open the breaker."""
    cool_down: float = 5.0
    """Seconds open before a half-open probe is let through."""
    half_open_probes: int = 1
    """Fetches let through at once while half-open; the others fail fast."""


@dataclass(frozen=True, slots=True)
class RetryConfig:
    """Retries of idempotent fetches (``traffic_shaping.*.experimental_retry``; queries only)."""

    enabled: bool = True
    retries: int = 0
    """Extra attempts after the first (connection errors, timeouts and 5xx only). Off by
    default: a retry multiplies the load on a struggling subgraph, so it is opted into per
    subgraph (and fetch counts then differ from Apollo Gateway's, tests/differential)."""
    backoff: float = 0.025
    """First delay in seconds; doubled each retry, fully jittered, capped by ``max_backoff``."""
    max_backoff: float = 1.0


@dataclass(frozen=True, slots=True)
class SubgraphTraffic:
    """Fault tolerance for one subgraph."""

    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    retry: RetryConfig = field(default_factory=RetryConfig)
    stale_if_error: float | None = None
    """Seconds a good query response may be served again while the subgraph fails."""


@dataclass(frozen=True, slots=True)
class TrafficConfig:
    """``traffic_shaping``: defaults (``all``) and per-subgraph overrides."""

    all: SubgraphTraffic = field(default_factory=SubgraphTraffic)
    subgraphs: Mapping[str, SubgraphTraffic] = field(default_factory=dict)

    def for_subgraph(self, name: str) -> SubgraphTraffic:
        return self.subgraphs.get(name, self.all)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, parse_duration: Callable[[Any], float]
    ) -> TrafficConfig:
        shaping = data.get("traffic_shaping") or {}
        base = _traffic(shaping.get("all") or {}, SubgraphTraffic(), parse_duration)
        subgraphs = {
            str(name): _traffic(sub or {}, base, parse_duration)
            for name, sub in (shaping.get("subgraphs") or {}).items()
        }
        return cls(all=base, subgraphs=subgraphs)


def _traffic(
    section: Mapping[str, Any], base: SubgraphTraffic, duration: Callable[[Any], float]
) -> SubgraphTraffic:
    breaker, retry, stale = base.breaker, base.retry, base.stale_if_error
    if "circuit_breaker" in section:
        raw = section["circuit_breaker"] or {}
        values: dict[str, Any] = {}
        if "enabled" in raw:
            values["enabled"] = bool(raw["enabled"])
        if "failure_threshold" in raw:
            values["failure_threshold"] = int(raw["failure_threshold"])
        if "cool_down" in raw:
            values["cool_down"] = duration(raw["cool_down"])
        if "half_open_probes" in raw:
            values["half_open_probes"] = int(raw["half_open_probes"])
        breaker = replace(breaker, **values)
    if "experimental_retry" in section:
        raw = section["experimental_retry"] or {}
        if raw.get("retry_mutations"):
            raise ValueError(
                "experimental_retry.retry_mutations is not supported: mutations are never retried"
            )
        values = {}
        if "enabled" in raw:
            values["enabled"] = bool(raw["enabled"])
        if "retries" in raw:
            values["retries"] = int(raw["retries"])
        if "backoff" in raw:
            values["backoff"] = duration(raw["backoff"])
        if "max_backoff" in raw:
            values["max_backoff"] = duration(raw["max_backoff"])
        retry = replace(retry, **values)
    if section.get("stale_if_error") is not None:
        stale = duration(section["stale_if_error"])
    return SubgraphTraffic(breaker=breaker, retry=retry, stale_if_error=stale)
