"""Configuration from environment variables (pydantic-settings).

Every variable is documented in the README's table. Embedded mode (the default)
needs none of them: SQLite files under ``var/`` and the in-process bus.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SUBGRAPH_NAMES: tuple[str, ...] = (
    "users",
    "menu",
    "orders",
    "delivery",
    "payments",
    "reviews",
    "geo",
    "notifications",
)
"""Every subgraph, in the order of their default ports (4001..4008)."""

DEFAULT_PORTS: dict[str, int] = {name: 4001 + i for i, name in enumerate(SUBGRAPH_NAMES)}
DEV_ROUTER_CLAIMS_SECRET = "dev-only-router-claims-secret-change-me-0123456789"


class Settings(BaseSettings):
    """Process-wide settings shared by the router runner and every subgraph."""

    model_config = SettingsConfigDict(env_prefix="PIZZA_", extra="ignore")

    mode: str = Field(default="embedded", description="embedded or distributed")
    data_dir: Path = Field(default=Path("var"), description="SQLite files in embedded mode")
    database_url_template: str = Field(
        default="",
        description="e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/pizza_{name}; "
        "empty means SQLite files in data_dir",
    )
    redis_url: str = Field(default="", description="Redis for the event bus; empty: in-process")
    bus_namespace: str = Field(default="pizza", description="Prefix of the bus's Redis keys")
    bus_claim_idle_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Redis Streams: an event left unacknowledged this long (a failed handler, a "
        "dead replica) is delivered again; keep it above the slowest handler (gateway timeouts)",
    )
    jwt_private_keys: str = Field(
        default="",
        repr=False,
        description='ES256 signing keys of users, JSON {"<kid>": "<PEM>"} (the last signs); '
        "empty: a key file generated under data_dir/keys",
    )
    data_keys: str = Field(
        default="",
        repr=False,
        description='AES-256 keys encrypting personal data at rest, JSON {"<kid>": "<base64 of '
        '32 bytes>"} (the last encrypts, all decrypt); empty: a key file generated under '
        "data_dir/keys",
    )
    trail_retention_hours: float = Field(
        default=24.0,
        description="hours a finished delivery keeps its driver trail before it is purged",
    )
    router_claims_secret: str = Field(
        default=DEV_ROUTER_CLAIMS_SECRET,
        repr=False,
        description="HMAC key of the x-pizza-claims header the router signs for the subgraphs",
    )
    jwks_url: str = Field(
        default="",
        description="users' JWKS, for REST routes outside the router; empty: derived "
        "from the users subgraph URL",
    )
    trust_jwt_from_jwks_url: str = Field(
        default="",
        description="subgraphs also accept Authorization: Bearer <ES256 access token> verified "
        "against this JWKS (a router that does not sign x-pizza-claims, e.g. Apollo Router); "
        "empty: off, the claims header only",
    )
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    host: str = "127.0.0.1"
    router_port: int = 4000
    subgraph_host: str = "127.0.0.1"
    subgraph_base_port: int = 4001
    subgraph_urls: dict[str, str] = Field(
        default_factory=dict,
        description='JSON map overriding where subgraphs are reached, e.g. {"menu": "http://menu:4002/graphql"}',
    )
    migrate_on_start: bool = Field(
        default=True, description="apply Alembic migrations when a subgraph starts"
    )
    load_demo_data: bool = True
    subgraph_timeout_seconds: float = 10.0
    tls_cert_file: str = Field(
        default="", description="PEM certificate a subgraph serves HTTPS with; empty: plain HTTP"
    )
    tls_key_file: str = Field(
        default="", description="PEM private key file of tls_cert_file (the path, never the key)"
    )
    tls_ca_file: str = Field(
        default="",
        description="CA bundle trusted for https:// service-to-service calls; empty: system CAs",
    )

    def uvicorn_tls(self) -> dict[str, str]:
        """uvicorn's ``ssl_certfile``/``ssl_keyfile`` when TLS is configured, else nothing."""
        if not self.tls_cert_file and not self.tls_key_file:
            return {}
        if not (self.tls_cert_file and self.tls_key_file):
            raise ValueError("TLS needs both PIZZA_TLS_CERT_FILE and PIZZA_TLS_KEY_FILE")
        return {"ssl_certfile": self.tls_cert_file, "ssl_keyfile": self.tls_key_file}

    def database_url(self, name: str) -> str:
        """The SQLAlchemy async URL of one subgraph's own database."""
        if self.database_url_template:
            return self.database_url_template.format(name=name)
        return f"sqlite+aiosqlite:///{self.data_dir / f'{name}.db'}"

    def subgraph_port(self, name: str) -> int:
        """The port a subgraph listens on (base port + its index)."""
        return self.subgraph_base_port + SUBGRAPH_NAMES.index(name)

    def users_jwks_url(self) -> str:
        """Where users publishes its JWKS (``/.well-known/jwks.json`` beside its ``/graphql``)."""
        if self.jwks_url:
            return self.jwks_url
        return self.subgraph_url("users").removesuffix("/graphql") + "/.well-known/jwks.json"

    def subgraph_url(self, name: str) -> str:
        """Where a subgraph's GraphQL endpoint is reached over HTTP."""
        if name in self.subgraph_urls:
            return self.subgraph_urls[name]
        return f"http://{self.subgraph_host}:{self.subgraph_port(name)}/graphql"


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
