"""Configuration of the request edge, read from ``router.yaml`` with Apollo Router's names.

In: the ``router.yaml`` mapping and ``ROUTER_*`` environment variables. Out: a frozen
``EdgeConfig`` (one dataclass per concern). Apollo Router's keys: ``apq``,
``persisted_queries``, ``limits``, ``demand_control``, ``batching``, ``cors``, ``csrf``,
``traffic_shaping.router.global_rate_limit``. Ours, where Apollo Router has no equivalent:
``persisted_queries.partners``, ``traffic_shaping.router.{client_rate_limit, ip_rate_limit,
rate_limit_storage}``, ``apq.router.cache.redis.namespace``. Environment:
``ROUTER_REDIS_URL`` (APQ cache and rate limits in Redis: distributed mode).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

DEFAULT_MAX_REQUEST_BYTES = 2_000_000
"""Apollo Router's default ``limits.http_max_request_bytes``."""
DEFAULT_PARSER_MAX_TOKENS = 15_000
"""Apollo Router's default ``limits.parser_max_tokens``."""
DEFAULT_CORS_ORIGINS = ("https://studio.apollographql.com",)
DEFAULT_CSRF_HEADERS = ("x-apollo-operation-name", "apollo-require-preflight")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")


def _seconds(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value))
    if match is None:
        raise ValueError(f"Invalid duration: {value!r} (use e.g. 1s, 500ms, 1m)")
    number, unit = float(match.group(1)), match.group(2) or "s"
    return number * {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}[unit]


def _optional_int(section: Mapping[str, Any], key: str) -> int | None:
    value = section.get(key)
    return None if value is None else int(value)


@dataclass(frozen=True, slots=True)
class RedisConfig:
    """A Redis deployment (``redis: {urls, namespace}``); the first URL is used."""

    urls: tuple[str, ...]
    namespace: str = "router"
    ttl: float | None = None
    """Seconds an APQ entry lives in Redis (``None``: no expiry)."""

    @property
    def url(self) -> str:
        """The URL the router connects to."""
        return self.urls[0]

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> RedisConfig | None:
        """``None`` when ``data`` has no URL."""
        if not data or not data.get("urls"):
            return None
        urls = data["urls"]
        return cls(
            urls=tuple(str(u) for u in ([urls] if isinstance(urls, str) else urls)),
            namespace=str(data.get("namespace") or "router"),
            ttl=_seconds(data["ttl"]) if data.get("ttl") is not None else None,
        )


@dataclass(frozen=True, slots=True)
class ApqConfig:
    """``apq: {enabled, router: {cache: {in_memory: {limit}, redis: {urls, ttl, namespace}}}}``."""

    enabled: bool = True
    in_memory_limit: int = 512
    redis: RedisConfig | None = None


@dataclass(frozen=True, slots=True)
class PartnersConfig:
    """``persisted_queries.partners`` (ours): clients restricted to the safelist.

    A request is a partner's when its verified claims (``request.state.claims``, put there by
    the authentication layer) hold one of ``roles`` in ``roles``/``role``, or when its
    ``apollographql-client-name`` header is one of ``client_names``.
    """

    roles: tuple[str, ...] = ("PARTNER",)
    client_names: tuple[str, ...] = ()
    require_id: bool = False
    """Partners must send operations by id (no freeform GraphQL, even when safelisted)."""


@dataclass(frozen=True, slots=True)
class PersistedQueriesConfig:
    """``persisted_queries: {enabled, log_unknown, local_manifests, safelist: {enabled,
    require_id}, partners}``: Apollo Router's persisted query list (PQL)."""

    enabled: bool = False
    log_unknown: bool = False
    local_manifests: tuple[str, ...] = ()
    safelist_enabled: bool = False
    require_id: bool = False
    partners: PartnersConfig = field(default_factory=PartnersConfig)


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """``limits``: Apollo Router's operation and HTTP limits (``None``: unlimited)."""

    max_depth: int | None = None
    max_height: int | None = None
    max_root_fields: int | None = None
    max_aliases: int | None = None
    http_max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    parser_max_tokens: int = DEFAULT_PARSER_MAX_TOKENS
    """Tokens the parser reads before giving up (``GRAPHQL_PARSE_FAILED``)."""
    warn_only: bool = False
    """Log operations over the depth/height/root field/alias limits instead of refusing them."""


@dataclass(frozen=True, slots=True)
class DemandControlConfig:
    """``demand_control: {enabled, mode, strategy: {static_estimated: {list_size, max}}}``.

    ``slicing_arguments`` (ours) are argument names read as a list's size when the field has
    no ``@listSize`` directive (e.g. ``first: 20``).
    """

    enabled: bool = False
    mode: str = "enforce"
    """``enforce`` rejects expensive operations; ``measure`` only logs them."""
    list_size: int = 10
    max: float = 1000.0
    slicing_arguments: tuple[str, ...] = ("first", "last", "limit")


@dataclass(frozen=True, slots=True)
class BatchingConfig:
    """``batching: {enabled, mode: batch_http_link, maximum_size}``."""

    enabled: bool = False
    mode: str = "batch_http_link"
    maximum_size: int | None = None


@dataclass(frozen=True, slots=True)
class CorsConfig:
    """``cors``: Apollo Router's CORS policy (empty ``allow_headers`` mirrors the request's)."""

    origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    match_origins: tuple[str, ...] = ()
    allow_any_origin: bool = False
    allow_credentials: bool = False
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    methods: tuple[str, ...] = ("GET", "POST", "OPTIONS")
    max_age: float | None = None


@dataclass(frozen=True, slots=True)
class CsrfConfig:
    """``csrf: {unsafe_disabled, required_headers}`` (on by default, as in Apollo Router)."""

    unsafe_disabled: bool = False
    required_headers: tuple[str, ...] = DEFAULT_CSRF_HEADERS


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A token bucket: ``capacity`` requests per ``interval`` seconds, refilled continuously."""

    capacity: int
    interval: float

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> RateLimit | None:
        """``None`` when ``data`` is empty."""
        if not data:
            return None
        limit = cls(capacity=int(data["capacity"]), interval=_seconds(data["interval"]))
        if limit.capacity < 1 or limit.interval <= 0:
            raise ValueError("rate limits need capacity >= 1 and a positive interval")
        return limit


@dataclass(frozen=True, slots=True)
class RateLimitConfig:
    """``traffic_shaping.router``: the global limit (Apollo Router) and per-client and per-IP
    limits (ours), in memory per process or in Redis shared by every replica."""

    global_limit: RateLimit | None = None
    client: RateLimit | None = None
    ip: RateLimit | None = None
    trusted_proxies: int = 0
    """Proxies in front of the router: the client IP is this many hops from the right of
    ``X-Forwarded-For`` (0: the TCP peer)."""
    redis: RedisConfig | None = None

    @property
    def enabled(self) -> bool:
        """True when any limit is configured."""
        return any((self.global_limit, self.client, self.ip))


@dataclass(frozen=True, slots=True)
class EdgeConfig:
    """Everything the request edge reads."""

    apq: ApqConfig = field(default_factory=ApqConfig)
    persisted_queries: PersistedQueriesConfig = field(default_factory=PersistedQueriesConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    demand_control: DemandControlConfig = field(default_factory=DemandControlConfig)
    batching: BatchingConfig = field(default_factory=BatchingConfig)
    cors: CorsConfig = field(default_factory=CorsConfig)
    csrf: CsrfConfig = field(default_factory=CsrfConfig)
    rate_limits: RateLimitConfig = field(default_factory=RateLimitConfig)

    def __post_init__(self) -> None:
        if self.apq.enabled and self.persisted_queries.safelist_enabled:
            raise ValueError(
                "apq and persisted_queries.safelist cannot both be enabled: set apq.enabled: false"
            )
        if self.cors.allow_any_origin and self.cors.allow_credentials:
            raise ValueError("cors: allow_credentials cannot be used with allow_any_origin")
        if self.batching.enabled and self.batching.mode != "batch_http_link":
            raise ValueError("batching.mode must be batch_http_link")
        if self.demand_control.mode not in ("enforce", "measure"):
            raise ValueError("demand_control.mode must be enforce or measure")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> EdgeConfig:
        """Read the edge sections of a ``router.yaml`` mapping."""
        apq = data.get("apq") or {}
        cache = ((apq.get("router") or {}).get("cache")) or {}
        pq = data.get("persisted_queries") or {}
        safelist = pq.get("safelist") or {}
        partners = pq.get("partners") or {}
        manifests = pq.get("local_manifests") or ()
        limits = data.get("limits") or {}
        demand = data.get("demand_control") or {}
        static = (demand.get("strategy") or {}).get("static_estimated") or {}
        batching = data.get("batching") or {}
        cors = data.get("cors") or {}
        csrf = data.get("csrf") or {}
        shaping = (data.get("traffic_shaping") or {}).get("router") or {}
        storage = shaping.get("rate_limit_storage") or {}
        return cls(
            apq=ApqConfig(
                enabled=bool(apq.get("enabled", True)),
                in_memory_limit=int((cache.get("in_memory") or {}).get("limit") or 512),
                redis=RedisConfig.from_mapping(cache.get("redis")),
            ),
            persisted_queries=PersistedQueriesConfig(
                enabled=bool(pq.get("enabled", False)),
                log_unknown=bool(pq.get("log_unknown", False)),
                local_manifests=tuple(
                    str(m) for m in ([manifests] if isinstance(manifests, str) else manifests)
                ),
                safelist_enabled=bool(safelist.get("enabled", False)),
                require_id=bool(safelist.get("require_id", False)),
                partners=PartnersConfig(
                    roles=tuple(str(r) for r in partners.get("roles", ("PARTNER",))),
                    client_names=tuple(str(c) for c in partners.get("client_names", ())),
                    require_id=bool(partners.get("require_id", False)),
                ),
            ),
            limits=LimitsConfig(
                max_depth=_optional_int(limits, "max_depth"),
                max_height=_optional_int(limits, "max_height"),
                max_root_fields=_optional_int(limits, "max_root_fields"),
                max_aliases=_optional_int(limits, "max_aliases"),
                http_max_request_bytes=int(
                    limits.get("http_max_request_bytes") or DEFAULT_MAX_REQUEST_BYTES
                ),
                parser_max_tokens=int(limits.get("parser_max_tokens") or DEFAULT_PARSER_MAX_TOKENS),
                warn_only=bool(limits.get("warn_only", False)),
            ),
            demand_control=DemandControlConfig(
                enabled=bool(demand.get("enabled", False)),
                mode=str(demand.get("mode", "enforce")),
                list_size=int(static.get("list_size", 10)),
                max=float(static.get("max", 1000)),
                slicing_arguments=tuple(
                    str(a) for a in static.get("slicing_arguments", ("first", "last", "limit"))
                ),
            ),
            batching=BatchingConfig(
                enabled=bool(batching.get("enabled", False)),
                mode=str(batching.get("mode", "batch_http_link")),
                maximum_size=_optional_int(batching, "maximum_size"),
            ),
            cors=CorsConfig(
                origins=tuple(str(o) for o in cors.get("origins", DEFAULT_CORS_ORIGINS)),
                match_origins=tuple(str(o) for o in cors.get("match_origins", ())),
                allow_any_origin=bool(cors.get("allow_any_origin", False)),
                allow_credentials=bool(cors.get("allow_credentials", False)),
                allow_headers=tuple(str(h) for h in cors.get("allow_headers", ())),
                expose_headers=tuple(str(h) for h in cors.get("expose_headers", ())),
                methods=tuple(
                    str(m).upper() for m in cors.get("methods", ("GET", "POST", "OPTIONS"))
                ),
                max_age=_seconds(cors["max_age"]) if cors.get("max_age") is not None else None,
            ),
            csrf=CsrfConfig(
                unsafe_disabled=bool(csrf.get("unsafe_disabled", False)),
                required_headers=tuple(
                    str(h).lower() for h in csrf.get("required_headers", DEFAULT_CSRF_HEADERS)
                ),
            ),
            rate_limits=RateLimitConfig(
                global_limit=RateLimit.from_mapping(shaping.get("global_rate_limit")),
                client=RateLimit.from_mapping(shaping.get("client_rate_limit")),
                ip=RateLimit.from_mapping(shaping.get("ip_rate_limit")),
                trusted_proxies=int(shaping.get("trusted_proxies", 0)),
                redis=RedisConfig.from_mapping(storage.get("redis")),
            ),
        )

    def with_env(self, environ: Mapping[str, str]) -> EdgeConfig:
        """``ROUTER_REDIS_URL``: APQ cache and rate limits in Redis unless the file says where."""
        url = environ.get("ROUTER_REDIS_URL")
        if not url:
            return self
        redis = RedisConfig(urls=(url,))
        return replace(
            self,
            apq=self.apq if self.apq.redis else replace(self.apq, redis=redis),
            rate_limits=(
                self.rate_limits
                if self.rate_limits.redis
                else replace(self.rate_limits, redis=redis)
            ),
        )


HELP = """\
Request edge (router.yaml, Apollo Router names; docs/adr/0008-router-edge.md):
  apq:                          # automatic persisted queries (on by default)
    enabled: true
    router: {cache: {in_memory: {limit: 512},
                     redis: {urls: [redis://127.0.0.1:6379/0], ttl: 24h, namespace: router}}}
  persisted_queries:            # persisted query list from Apollo manifests
    enabled: true
    local_manifests: [schema/persisted-queries.json]
    log_unknown: true           # log freeform operations that are not in the list
    safelist: {enabled: false, require_id: false}   # safelist needs apq.enabled: false
    partners: {roles: [PARTNER], client_names: [kiosk], require_id: false}  # ours: always
                                # restricted to the list (verified role or client name)
  limits: {max_depth: 15, max_height: 200, max_root_fields: 20, max_aliases: 30,
           http_max_request_bytes: 2000000, parser_max_tokens: 15000,
           warn_only: false}     # warn_only: log operations over the limits, run them
  demand_control:               # cost from list sizes (@listSize, first/last/limit)
    enabled: true
    mode: enforce               # or measure (log only)
    strategy: {static_estimated: {list_size: 10, max: 1000}}
  batching: {enabled: true, mode: batch_http_link, maximum_size: 10}
  cors: {origins: [https://app.pizza.example], allow_credentials: true, max_age: 1h}
  csrf: {unsafe_disabled: false,
         required_headers: [x-apollo-operation-name, apollo-require-preflight]}
  traffic_shaping:
    router:
      global_rate_limit: {capacity: 1000, interval: 1s}
      client_rate_limit: {capacity: 100, interval: 1s}  # ours: token subject or
                                                         # apollographql-client-name
      ip_rate_limit: {capacity: 50, interval: 1s}        # ours
      trusted_proxies: 1         # client IP from X-Forwarded-For behind one proxy
      rate_limit_storage: {redis: {urls: [redis://127.0.0.1:6379/0], namespace: router}}

Edge environment: ROUTER_REDIS_URL (APQ cache and rate limits in Redis),
ROUTER_INTROSPECTION (true/false: supergraph.introspection).
python -m router manifest operations/ --output schema/persisted-queries.json
"""
