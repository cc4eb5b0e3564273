"""``@authenticated``, ``@requiresScopes`` and ``@policy`` enforced by the router.

A one-subgraph supergraph composed here; the gateway runs in-process with a fetcher that
executes subgraph operations against canned data and records the headers it was given.
Unauthorized fields are removed and reported with their paths, the rest of the query runs.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from graphql import build_schema, graphql_sync

from router.auth.claims import CLAIMS_HEADER
from router.auth.config import AuthConfig
from router.composition import SubgraphDefinition, compose
from router.config import RouterConfig
from router.gateway import Gateway

SUBGRAPH_SDL = """
extend schema @link(url: "https://specs.apollo.dev/federation/v2.6",
  import: ["@key", "@authenticated", "@requiresScopes", "@policy"])

type Query {
  me: User @authenticated
  posts: [Post!]!
  stats: Int @requiresScopes(scopes: [["admin"]])
  audit: [String!] @policy(policies: [["role:admin"]])
}

type User @key(fields: "id") {
  id: ID!
  name: String!
  email: String @requiresScopes(scopes: [["users:read"], ["admin", "profile"]])
}

type Post {
  id: ID!
  title: String!
  secret: Secret
}

type Secret @authenticated {
  code: String!
}
"""
EXECUTABLE_SDL = """
type Query { me: User posts: [Post!]! stats: Int audit: [String!] }
type User { id: ID! name: String! email: String }
type Post { id: ID! title: String! secret: Secret }
type Secret { code: String! }
"""
DATA = {
    "me": {"id": "u1", "name": "Ann", "email": "ann@example.com"},
    "posts": [
        {"id": "p1", "title": "Hello", "secret": {"code": "s1"}},
        {"id": "p2", "title": "World", "secret": {"code": "s2"}},
    ],
    "stats": 42,
    "audit": ["created"],
}


class RecordingFetcher:
    """Executes each subgraph operation on ``DATA``; keeps the bodies and headers sent."""

    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        self.schema = build_schema(EXECUTABLE_SDL)
        self.calls: list[tuple[str, dict[str, str]]] = []

    async def fetch(
        self, service: str, body: bytes, client_headers: Any, *, shareable: bool = False
    ) -> dict[str, Any]:
        request = orjson.loads(body)
        sent = {
            n: client_headers[n] for n in self.config.headers_for(service) if n in client_headers
        }
        self.calls.append((request["query"], sent))
        result = graphql_sync(
            self.schema, request["query"], root_value=DATA, variable_values=request["variables"]
        )
        return {"data": result.data}


def make_gateway(**auth: Any) -> tuple[Gateway, RecordingFetcher]:
    result = compose([SubgraphDefinition("blog", "http://blog/graphql", SUBGRAPH_SDL)])
    assert result.ok, result.errors
    config = RouterConfig(auth=AuthConfig(**auth))
    gateway = Gateway.from_sdl(result.supergraph_sdl or "", config)
    fetcher = RecordingFetcher(config)
    gateway.fetcher = fetcher  # type: ignore[assignment]
    return gateway, fetcher


class FakeAuthentication:
    """Stands in for JWT validation: the claims come from the test."""

    def __init__(self, claims: dict[str, Any] | None) -> None:
        self.claims = claims

    async def __call__(self, headers: Any) -> dict[str, Any] | None:
        return self.claims


async def run(query: str, claims: dict[str, Any] | None, **auth: Any) -> dict[str, Any]:
    gateway, _ = make_gateway(**auth)
    gateway.auth.authenticate = FakeAuthentication(claims)  # type: ignore[method-assign]
    return await gateway.execute(query=query)


def unauthorized(*paths: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "message": "Unauthorized field or type",
            "path": list(path),
            "extensions": {"code": "UNAUTHORIZED_FIELD_OR_TYPE"},
        }
        for path in paths
    ]


MIXED = "{ me { name } posts { title } stats }"
NESTED = "{ posts { id secret { code } } }"
FRAGMENTS = """
query { posts { ...PostFields ... on Post { secret { code } } } }
fragment PostFields on Post { title secret { code } }
"""
EMAIL = "{ me { name email } }"
AUDIT = "{ audit stats }"
ANONYMOUS_ONLY = "{ me { name } }"


async def test_anonymous_callers_lose_authenticated_fields_and_get_the_rest() -> None:
    response = await run(MIXED, None)
    assert response["data"] == {
        "me": None,
        "posts": [{"title": "Hello"}, {"title": "World"}],
        "stats": None,
    }
    assert response["errors"] == unauthorized(["me"], ["stats"])


async def test_fields_returning_an_authenticated_type_are_removed_with_list_paths() -> None:
    response = await run(NESTED, None)
    assert response["data"] == {
        "posts": [{"id": "p1", "secret": None}, {"id": "p2", "secret": None}]
    }
    assert response["errors"] == unauthorized(["posts", "@", "secret"])


async def test_fragments_are_filtered_too() -> None:
    response = await run(FRAGMENTS, None)
    assert response["data"]["posts"][0] == {"title": "Hello", "secret": None}
    assert response["errors"] == unauthorized(["posts", "@", "secret"], ["posts", "@", "secret"])


async def test_signed_in_callers_see_authenticated_fields() -> None:
    response = await run(NESTED, {"sub": "u1"})
    assert "errors" not in response
    assert response["data"]["posts"][0]["secret"] == {"code": "s1"}


@pytest.mark.parametrize(
    ("scope", "visible"),
    [("", False), ("profile", False), ("users:read", True), ("admin profile", True)],
)
async def test_requires_scopes_needs_one_whole_alternative(scope: str, visible: bool) -> None:
    response = await run(EMAIL, {"sub": "u1", "scope": scope})
    assert response["data"]["me"]["name"] == "Ann"
    assert (response["data"]["me"]["email"] == "ann@example.com") is visible
    assert ("errors" in response) is not visible


async def test_policies_are_decided_by_the_hook() -> None:
    def only_admins(policies: frozenset[str], claims: Any) -> set[str]:
        return set(policies) if claims and "ADMIN" in claims.get("roles", []) else set()

    denied = await run(AUDIT, {"sub": "u1", "roles": ["STAFF"]}, directives=True)
    assert denied["errors"] == unauthorized(["audit"], ["stats"])
    gateway, _ = make_gateway()
    gateway.auth.authorizer.policy_hook = only_admins
    gateway.auth.authenticate = FakeAuthentication({"sub": "u1", "roles": ["ADMIN"]})  # type: ignore[method-assign]
    granted = await gateway.execute(query=AUDIT)
    assert granted["data"]["audit"] == ["created"]


async def test_a_failing_policy_hook_denies() -> None:
    def broken(policies: frozenset[str], claims: Any) -> set[str]:
        raise RuntimeError("policy store down")

    gateway, _ = make_gateway()
    gateway.auth.authorizer.policy_hook = broken
    gateway.auth.authenticate = FakeAuthentication({"sub": "u1", "roles": ["ADMIN"]})  # type: ignore[method-assign]
    response = await gateway.execute(query="{ audit }")
    assert response["errors"] == unauthorized(["audit"])


async def test_a_query_left_empty_is_not_sent_to_any_subgraph() -> None:
    gateway, fetcher = make_gateway()
    gateway.auth.authenticate = FakeAuthentication(None)  # type: ignore[method-assign]
    response = await gateway.execute(query=ANONYMOUS_ONLY)
    assert response == {"data": {"me": None}, "errors": unauthorized(["me"])}
    assert fetcher.calls == []


async def test_subgraphs_receive_only_the_authorized_selection() -> None:
    gateway, fetcher = make_gateway()
    gateway.auth.authenticate = FakeAuthentication(None)  # type: ignore[method-assign]
    await gateway.execute(query=MIXED)
    ((query, _),) = fetcher.calls
    assert "posts" in query and "me" not in query and "stats" not in query


async def test_the_plan_cache_keys_on_the_authorization_outcome() -> None:
    gateway, _ = make_gateway()
    gateway.auth.authenticate = FakeAuthentication(None)  # type: ignore[method-assign]
    anonymous = await gateway.execute(query=MIXED)
    gateway.auth.authenticate = FakeAuthentication({"sub": "u1", "scope": "admin"})  # type: ignore[method-assign]
    signed_in = await gateway.execute(query=MIXED)
    assert anonymous["data"]["me"] is None and signed_in["data"]["me"] == {"name": "Ann"}
    assert signed_in["data"]["stats"] == 42 and "errors" not in signed_in
    assert len(gateway.plans) == 2


async def test_directives_can_be_switched_off() -> None:
    response = await run(MIXED, None, directives=False)
    assert "errors" not in response
    assert response["data"]["stats"] == 42


async def test_client_claims_headers_never_reach_subgraphs() -> None:
    gateway, fetcher = make_gateway()
    await gateway.execute(query="{ posts { id } }", headers={CLAIMS_HEADER: "v1.forged.sig"})
    ((_, sent),) = fetcher.calls
    assert CLAIMS_HEADER not in sent


async def test_subgraphs_get_signed_claims_instead_of_the_token() -> None:
    from router.auth.config import JwksSource, JwtConfig
    from shared.auth import claims_from_header

    jwt_config = JwtConfig(jwks=(JwksSource(url="http://users/.well-known/jwks.json"),))
    gateway, fetcher = make_gateway(jwt=jwt_config, claims_secret="s" * 32)
    gateway.auth.authenticate = FakeAuthentication({"sub": "u1", "roles": ["CUSTOMER"]})  # type: ignore[method-assign]
    await gateway.execute(
        query="{ posts { id } }",
        headers={"authorization": "Bearer the.jwt.itself", CLAIMS_HEADER: "v1.forged.sig"},
    )
    ((_, sent),) = fetcher.calls
    assert "authorization" not in sent
    assert claims_from_header(sent[CLAIMS_HEADER], secret="s" * 32) == {
        "sub": "u1",
        "roles": ["CUSTOMER"],
    }
