"""Router configuration.

In: keyword arguments, a ``router.yaml`` (Apollo Router names: ``supergraph.listen``,
``supergraph.query_planning.cache.in_memory.limit``, ``override_subgraph_url``,
``traffic_shaping.all.timeout``, ``traffic_shaping.subgraphs.<name>.timeout``,
``headers.{all,subgraphs.<name>}.request[].propagate.named``, ``authentication.router.jwt``,
``authorization.directives``, ``telemetry.exporters.tracing.otlp.endpoint``,
``traffic_shaping.*.experimental_retry``, ``tls.subgraph.all.certificate_authorities``,
``subscription.{enable_deduplication,queue_capacity,max_opened_subscriptions}``; ours:
``supergraph.explorer.enabled``, ``supergraph.tls.{cert_file,key_file}``,
``authorization.policies.hook``, ``traffic_shaping.*.circuit_breaker``,
``traffic_shaping.*.stale_if_error``, ``progressive_override.hook``, the rest of
``subscription:`` — see ``router.subscriptions.options``) and environment overrides (``ROUTER_HOST``,
``ROUTER_PORT``, ``ROUTER_TIMEOUT``, ``ROUTER_SUBGRAPH_URL_<NAME>``, ``ROUTER_TLS_CERT_FILE``,
``ROUTER_TLS_KEY_FILE``, ``ROUTER_SUBGRAPH_CA_FILE``, ``PIZZA_ROUTER_CLAIMS_SECRET``, ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_SERVICE_NAME``).
Out: a frozen ``RouterConfig``.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from router.auth.claims import CLAIMS_HEADER, DEV_CLAIMS_SECRET
from router.auth.config import AuthConfig
from router.edge.config import EdgeConfig
from router.observability.config import TelemetryConfig, TrafficConfig
from router.subscriptions.options import SubscriptionOptions

logger = logging.getLogger("router")

DEFAULT_TIMEOUT_SECONDS = 30.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")


def parse_duration(value: str | float | int) -> float:
    """Seconds from ``30s``, ``500ms``, ``1m`` or a bare number of seconds."""
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(value)
    if match is None:
        raise ValueError(f"Invalid duration: {value!r} (use e.g. 30s, 500ms)")
    number, unit = float(match.group(1)), match.group(2) or "s"
    return number / 1000 if unit == "ms" else number * 60 if unit == "m" else number


@dataclass(frozen=True, slots=True)
class OverrideLabelContext:
    """What an override-label hook sees of one request (progressive ``@override``)."""

    labels: frozenset[str]
    """The supergraph's labels the hook decides (every label except ``percent(N)`` ones)."""
    query: str
    operation_name: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    """The client's request headers (empty for subscriptions and the CLI)."""
    claims: Mapping[str, Any] | None = None
    """The verified JWT claims, when authentication is configured."""


OverrideLabelHook = Callable[[OverrideLabelContext], Iterable[str]]
"""``override_labels(request_context) -> set[str]``: the non-percent labels enabled for a request
(Apollo Router's coprocessor ``apollo_override::labels_to_override``)."""


def load_override_label_hook(reference: OverrideLabelHook | str | None) -> OverrideLabelHook | None:
    """The hook itself, or the one at ``module:attribute``; ``None`` when not configured."""
    if reference is None or callable(reference):
        return reference
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"progressive_override.hook must be 'module:attribute', not {reference!r}")
    hook = getattr(importlib.import_module(module_name), attribute)
    if not callable(hook):
        raise ValueError(f"progressive_override.hook {reference!r} is not callable")
    return hook  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class RouterConfig:
    """Everything the router reads besides the supergraph SDL."""

    host: str = "127.0.0.1"
    port: int = 4000
    override_subgraph_url: Mapping[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    """Default per-request subgraph timeout, in seconds."""
    subgraph_timeouts: Mapping[str, float] = field(default_factory=dict)
    propagate_headers: tuple[str, ...] = ("authorization",)
    """Client request headers forwarded to every subgraph (lower case)."""
    subgraph_propagate_headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    plan_cache_size: int = 512
    """Entries of each LRU cache (prepared operations, query plans)."""
    introspection: bool = True
    expose_query_plan: bool = False
    """Answer ``Apollo-Expose-Query-Plan: true`` with ``extensions.apolloQueryPlan`` (router.yaml
    ``plugins: {experimental.expose_query_plan: true}``, as Apollo Router)."""
    explorer_enabled: bool = True
    """Serve the GraphiQL explorer to browsers on ``GET /graphql`` (``supergraph.explorer.enabled``)."""
    auth: AuthConfig = field(default_factory=AuthConfig)
    """JWT authentication, the authorization directives and the claims secret (``router.auth``)."""
    edge: EdgeConfig = field(default_factory=EdgeConfig)
    """APQ, persisted queries, limits, batching, CORS, CSRF, rate limits (``router.edge``)."""
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
    """Tracing export (OTLP) and metric label bounds (``router.observability``)."""
    traffic: TrafficConfig = field(default_factory=TrafficConfig)
    """Circuit breakers, retries and ``stale_if_error`` per subgraph (``router.observability``)."""
    tls_cert_file: str | None = None
    """PEM certificate (chain) the router serves HTTPS with (``supergraph.tls.cert_file``)."""
    tls_key_file: str | None = None
    """Its private key file; only the path is held here, never the key (ADR 0011)."""
    subgraph_ca: str | None = None
    """CA bundle trusted for ``https://`` subgraphs: a file path or inline PEM
    (``tls.subgraph.all.certificate_authorities``); None: the system's CAs."""
    subscription: SubscriptionOptions = field(default_factory=SubscriptionOptions)
    """router.yaml ``subscription:`` (deduplication, queues, heartbeats, limits)."""
    override_labels: OverrideLabelHook | str | None = field(default=None, compare=False)
    """Progressive ``@override``: the hook enabling non-percent labels per request, or its
    ``module:attribute`` (router.yaml ``progressive_override.hook``, ours). Without it only
    ``percent(N)`` labels are ever enabled (each with probability N/100 per request)."""

    def timeout_for(self, subgraph: str) -> float:
        """The timeout for requests to ``subgraph``."""
        return self.subgraph_timeouts.get(subgraph, self.timeout)

    def headers_for(self, subgraph: str) -> tuple[str, ...]:
        """Header names forwarded to ``subgraph``."""
        extra = self.subgraph_propagate_headers.get(subgraph, ())
        names = self.propagate_headers + tuple(h for h in extra if h not in self.propagate_headers)
        if self.auth.jwt is not None:
            # The router's signed claims replace the end-user token (see router.auth).
            names = (*(h for h in names if h != self.auth.jwt.header_name), CLAIMS_HEADER)
        if self.telemetry.tracing:
            # Set per fetch by router.observability (the fetch span), never the client's own.
            names = (*names, "traceparent")
        return names

    @classmethod
    def from_yaml(
        cls, path: str | Path, *, environ: Mapping[str, str] | None = None
    ) -> RouterConfig:
        """Load ``router.yaml`` then apply environment overrides."""
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return cls.from_mapping(data).with_env(os.environ if environ is None else environ)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> RouterConfig:
        """Build from a ``router.yaml``-shaped mapping."""
        values: dict[str, Any] = {}
        supergraph = data.get("supergraph") or {}
        listen = supergraph.get("listen")
        if listen:
            host, _, port = str(listen).rpartition(":")
            values["host"], values["port"] = host or "127.0.0.1", int(port)
        limit = (
            ((supergraph.get("query_planning") or {}).get("cache") or {}).get("in_memory") or {}
        ).get("limit")
        if limit:
            values["plan_cache_size"] = int(limit)
        if "introspection" in supergraph:
            values["introspection"] = bool(supergraph["introspection"])
        explorer = supergraph.get("explorer") or {}
        if "enabled" in explorer:
            values["explorer_enabled"] = bool(explorer["enabled"])
        plugins = data.get("plugins") or {}
        if "experimental.expose_query_plan" in plugins:
            values["expose_query_plan"] = bool(plugins["experimental.expose_query_plan"])
        if data.get("override_subgraph_url"):
            values["override_subgraph_url"] = {
                str(k): str(v) for k, v in data["override_subgraph_url"].items()
            }
        shaping = data.get("traffic_shaping") or {}
        if (shaping.get("all") or {}).get("timeout") is not None:
            values["timeout"] = parse_duration(shaping["all"]["timeout"])
        values["subgraph_timeouts"] = {
            str(name): parse_duration(sub["timeout"])
            for name, sub in (shaping.get("subgraphs") or {}).items()
            if (sub or {}).get("timeout") is not None
        }
        headers = data.get("headers") or {}
        if headers.get("all"):
            values["propagate_headers"] = _propagated(headers["all"])
        values["subgraph_propagate_headers"] = {
            str(name): _propagated(rules)
            for name, rules in (headers.get("subgraphs") or {}).items()
        }
        values["auth"] = AuthConfig.from_mapping(data)
        values["edge"] = EdgeConfig.from_mapping(data)
        values["telemetry"] = TelemetryConfig.from_mapping(data)
        values["traffic"] = TrafficConfig.from_mapping(data, parse_duration=parse_duration)
        tls = supergraph.get("tls") or {}
        if tls.get("cert_file"):
            values["tls_cert_file"] = str(tls["cert_file"])
        if tls.get("key_file"):
            values["tls_key_file"] = str(tls["key_file"])
        subgraph_tls = (((data.get("tls") or {}).get("subgraph") or {}).get("all")) or {}
        if subgraph_tls.get("certificate_authorities"):
            values["subgraph_ca"] = str(subgraph_tls["certificate_authorities"])
        values["subscription"] = SubscriptionOptions.from_mapping(
            data, parse_duration=parse_duration
        )
        hook = (data.get("progressive_override") or {}).get("hook")
        if hook:
            values["override_labels"] = str(hook)
        return cls(**values)

    def with_env(self, environ: Mapping[str, str]) -> RouterConfig:
        """Apply ``ROUTER_*`` environment overrides."""
        changes: dict[str, Any] = {}
        if environ.get("ROUTER_HOST"):
            changes["host"] = environ["ROUTER_HOST"]
        if environ.get("ROUTER_PORT"):
            changes["port"] = int(environ["ROUTER_PORT"])
        if environ.get("ROUTER_TIMEOUT"):
            changes["timeout"] = parse_duration(environ["ROUTER_TIMEOUT"])
        urls = {
            key.removeprefix("ROUTER_SUBGRAPH_URL_").lower(): value
            for key, value in environ.items()
            if key.startswith("ROUTER_SUBGRAPH_URL_")
        }
        if urls:
            changes["override_subgraph_url"] = {**self.override_subgraph_url, **urls}
        for variable, name in (
            ("ROUTER_TLS_CERT_FILE", "tls_cert_file"),
            ("ROUTER_TLS_KEY_FILE", "tls_key_file"),
            ("ROUTER_SUBGRAPH_CA_FILE", "subgraph_ca"),
        ):
            if environ.get(variable):
                changes[name] = environ[variable]
        if environ.get("ROUTER_INTROSPECTION"):
            changes["introspection"] = environ["ROUTER_INTROSPECTION"].lower() in ("1", "true")
        if self.telemetry.with_env(environ) is not self.telemetry:
            changes["telemetry"] = self.telemetry.with_env(environ)
        if self.edge.with_env(environ) is not self.edge:
            changes["edge"] = self.edge.with_env(environ)
        if self.auth.jwt is not None and self.auth.claims_secret is None:
            secret = environ.get("PIZZA_ROUTER_CLAIMS_SECRET") or DEV_CLAIMS_SECRET
            if secret == DEV_CLAIMS_SECRET and environ.get("PIZZA_MODE", "embedded") != "embedded":
                logger.warning("PIZZA_ROUTER_CLAIMS_SECRET is not set: using the dev default")
            changes["auth"] = replace(self.auth, claims_secret=secret)
        return replace(self, **changes) if changes else self


def _propagated(rules: Mapping[str, Any]) -> tuple[str, ...]:
    names = ["authorization"]
    for rule in rules.get("request") or ():
        named = (rule.get("propagate") or {}).get("named")
        if named and str(named).lower() not in names:
            names.append(str(named).lower())
    return tuple(names)
