"""Fixtures of the auth tests: a key ring, a JWKS served without a network, token makers.

``jwks_server`` serves the ``KeyRing`` of the test over ``httpx.MockTransport`` and counts
its requests; ``make_token`` signs claims as users does (ES256, ``kid`` header) unless told
otherwise, so each test changes only the part it is about.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
import pytest

from router.auth.config import JwksSource, JwtConfig
from router.auth.jwks import JwksCache
from router.auth.jwt import JwtAuthenticator
from shared.auth import AUDIENCE, ISSUER, access_token_claims
from shared.keys import KeyRing, generate_key
from shared.settings import Settings

JWKS_URL = "http://users.test/.well-known/jwks.json"


@dataclass
class JwksServer:
    """A JWKS endpoint backed by ``ring``; ``requests`` counts fetches, ``fail`` breaks it."""

    ring: KeyRing
    requests: int = 0
    fail: bool = False
    extra_keys: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.fail:
            return httpx.Response(503)
        return httpx.Response(200, json={"keys": self.ring.jwks()["keys"] + self.extra_keys})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ring() -> KeyRing:
    """An in-memory key ring with one key."""
    return KeyRing([generate_key()])


@pytest.fixture
def jwks_server(ring: KeyRing) -> JwksServer:
    return JwksServer(ring)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def source() -> JwksSource:
    return JwksSource(
        url=JWKS_URL, issuer=ISSUER, audiences=(AUDIENCE,), algorithms=("ES256",), poll_interval=60
    )


@pytest.fixture
def authenticator(jwks_server: JwksServer, source: JwksSource, clock: Clock) -> JwtAuthenticator:
    """The router's validator, reading the test's JWKS."""
    cache = JwksCache((source,), client=jwks_server.client(), clock=clock)
    return JwtAuthenticator(JwtConfig(jwks=(source,)), jwks=cache)


@pytest.fixture
def make_token(ring: KeyRing, tmp_path) -> Callable[..., str]:
    """``make_token(**overrides)``: an access token as users issues it, claims overridden."""
    settings = Settings(data_dir=tmp_path)

    def make(
        *,
        key: Any = None,
        algorithm: str = "ES256",
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        signing = key or ring.signing_key
        values = access_token_claims(settings=settings, user_id="usr_test", roles=["CUSTOMER"])
        values.update(claims)
        values = {k: v for k, v in values.items() if v is not None}
        header = {"kid": signing.kid, **(headers or {})}
        secret = signing.private_key if hasattr(signing, "private_key") else signing
        return jwt.encode(values, secret, algorithm=algorithm, headers=header)

    return make


def bearer_header(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def now() -> int:
    return int(time.time())


@pytest.fixture(scope="module")
async def auth_stack(tmp_path_factory: pytest.TempPathFactory):
    """The embedded stack (router + subgraphs in this process), shared by a module's tests."""
    from shared.settings import SUBGRAPH_NAMES
    from subgraphs.embedded import EmbeddedStack

    stack = EmbeddedStack(
        settings=Settings(data_dir=tmp_path_factory.mktemp("auth")),
        router_port=0,
        subgraph_ports=dict.fromkeys(SUBGRAPH_NAMES, 0),
    )
    await stack.start()
    try:
        yield stack
    finally:
        await stack.stop()


class Caller:
    """Talks to the router as one user (or anonymously)."""

    def __init__(self, client: httpx.AsyncClient, url: str, token: str | None = None) -> None:
        self.client = client
        self.url = url
        self.token = token
        self.user_id: str | None = None

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        headers = bearer_header(self.token) if self.token else {}
        return await self.client.post(
            self.url, json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.post(query, variables)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.gql(query, variables)
        assert "errors" not in body, body["errors"]
        return dict(body["data"])


LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { accessToken user { id } }
}"""
REGISTER = """
mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }
"""


async def sign_in(client: httpx.AsyncClient, url: str, email: str, password: str) -> Caller:
    anonymous = Caller(client, url)
    login = (await anonymous.data(LOGIN, {"email": email, "password": password}))["login"]
    caller = Caller(client, url, login["accessToken"])
    caller.user_id = login["user"]["id"]
    return caller


async def new_customer(client: httpx.AsyncClient, url: str, name: str) -> Caller:
    email = f"{name.lower()}-{uuid.uuid4().hex[:8]}@example.com"
    payload = {"email": email, "password": "margherita-42", "name": name}
    registered = (await Caller(client, url).data(REGISTER, {"input": payload}))["register"]
    caller = Caller(client, url, registered["accessToken"])
    caller.user_id = registered["user"]["id"]
    return caller
