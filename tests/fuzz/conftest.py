"""The embedded stack for fuzzing, served from its own thread (ADR 0013).

Schemathesis calls the servers synchronously (``requests``); the stack therefore runs in an
event loop of its own in a background thread, not in the tests' loop. Payments gets a webhook
secret so that webhooks are verified (503 otherwise) and signed events reach their handlers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import schemathesis
from pydantic import SecretStr

from shared.auth import CLAIMS_HEADER, access_token_claims, sign_claims_header
from shared.settings import SUBGRAPH_NAMES, Settings
from subgraphs.embedded import EmbeddedStack
from subgraphs.payments.config import payments_settings

WEBHOOK_SECRET = "whsec_fuzz_" + "0" * 24
CSRF_HEADERS = {"apollo-require-preflight": "true"}
"""Sent with every router request: CSRF protection refuses simple requests without it."""


@dataclass(frozen=True)
class FuzzStack:
    """Base URLs (no trailing slash) of the running router and subgraphs."""

    router: str
    subgraphs: dict[str, str]
    settings: Settings

    def claims_header(
        self, *, user_id: str = "fuzz-customer", roles: tuple[str, ...] = ("CUSTOMER",)
    ) -> dict[str, str]:
        """A signed ``x-pizza-claims`` as the router sends it: a caller for subgraph REST routes."""
        claims = access_token_claims(settings=self.settings, user_id=user_id, roles=list(roles))
        return {
            CLAIMS_HEADER: sign_claims_header(claims, secret=self.settings.router_claims_secret)
        }


@pytest.fixture(scope="session")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzStack]:
    """Router and subgraphs on free ports, running in a background thread's event loop."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzz-stack", daemon=True)
    thread.start()
    stack = EmbeddedStack(
        settings=Settings(data_dir=tmp_path_factory.mktemp("fuzz")),
        router_port=0,
        subgraph_ports=dict.fromkeys(SUBGRAPH_NAMES, 0),
    )
    try:
        asyncio.run_coroutine_threadsafe(stack.start(), loop).result(timeout=120)
        payments = stack.runtimes["payments"]
        payments.extras["payments_settings"] = payments_settings(payments).model_copy(
            update={"payment_webhook_secret": SecretStr(WEBHOOK_SECRET)}
        )
        yield FuzzStack(
            router=stack.router_url.removesuffix("/graphql"),
            subgraphs={
                name: url.removesuffix("/graphql") for name, url in stack.subgraph_urls.items()
            },
            settings=stack.settings,
        )
    finally:
        asyncio.run_coroutine_threadsafe(stack.stop(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@pytest.fixture(scope="session")
def router_openapi(fuzz_stack: FuzzStack) -> schemathesis.BaseSchema:
    """The router's own ``/openapi.json``."""
    return schemathesis.openapi.from_url(f"{fuzz_stack.router}/openapi.json")


@pytest.fixture(scope="session")
def users_openapi(fuzz_stack: FuzzStack) -> schemathesis.BaseSchema:
    """FastAPI's ``/openapi.json`` of users (JWKS, health)."""
    return schemathesis.openapi.from_url(f"{fuzz_stack.subgraphs['users']}/openapi.json")


@pytest.fixture(scope="session")
def payments_openapi(fuzz_stack: FuzzStack) -> schemathesis.BaseSchema:
    """FastAPI's ``/openapi.json`` of payments (webhooks, invoice PDFs, health)."""
    return schemathesis.openapi.from_url(f"{fuzz_stack.subgraphs['payments']}/openapi.json")


@pytest.fixture(scope="session")
def router_graphql(fuzz_stack: FuzzStack) -> schemathesis.BaseSchema:
    """The supergraph's API schema, by introspection through the router."""
    return schemathesis.graphql.from_url(f"{fuzz_stack.router}/graphql", headers=CSRF_HEADERS)
