"""HTTP edge: body size (413), batching, CORS, CSRF prevention, introspection control."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from router.config import RouterConfig
from tests.edge.conftest import RouterFactory, code_of

ROOT = Path(__file__).resolve().parents[2]
ME = "{ me { name } }"
ADA = {"data": {"me": {"name": "Ada Lovelace"}}}


# Request body size
def test_body_over_the_limit_is_413(edge_router: RouterFactory) -> None:
    router = edge_router(limits={"http_max_request_bytes": 200})
    assert router.post({"query": ME}).json() == ADA
    padded = {"query": ME + " " * 300}
    response = router.post(padded)
    assert response.status_code == 413
    assert code_of(response) == "INVALID_GRAPHQL_REQUEST"
    assert response.json()["errors"][0]["message"] == "Request body payload too large"


def test_streamed_body_without_length_is_cut_at_the_limit(edge_router: RouterFactory) -> None:
    router = edge_router(limits={"http_max_request_bytes": 200})

    def chunks():  # chunked transfer encoding: no content-length to trust
        yield b'{"query": "{ me { name } }", "x": "'
        for _ in range(50):
            yield b"aaaaaaaaaa"
        yield b'"}'

    response = router.http.post(
        router.url, content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert code_of(response) == "INVALID_GRAPHQL_REQUEST"


def test_get_query_string_over_the_limit_is_413(edge_router: RouterFactory) -> None:
    router = edge_router(limits={"http_max_request_bytes": 100})
    assert router.get({"query": ME}).json() == ADA
    response = router.get({"query": ME + " " * 200})
    assert response.status_code == 413


# Batching
def test_batches_are_refused_unless_enabled(edge_router: RouterFactory) -> None:
    router = edge_router()
    response = router.post([{"query": ME}, {"query": ME}])
    assert response.status_code == 400
    assert code_of(response) == "BATCHING_NOT_ENABLED"


def test_batch_answers_each_operation_in_order(edge_router: RouterFactory) -> None:
    router = edge_router(batching={"enabled": True, "mode": "batch_http_link", "maximum_size": 3})
    response = router.post(
        [
            {"query": ME},
            {"query": "{ me { nope } }"},
            {"query": "{ topProducts(first: 1) { upc } }"},
        ]
    )
    assert response.status_code == 200
    results = response.json()
    assert results[0] == ADA
    assert results[1]["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert results[2] == {"data": {"topProducts": [{"upc": "1"}]}}


def test_batch_over_the_maximum_size_is_refused(edge_router: RouterFactory) -> None:
    router = edge_router(batching={"enabled": True, "maximum_size": 2})
    response = router.post([{"query": ME}] * 3)
    assert response.status_code == 400
    assert code_of(response) == "BATCH_LIMIT_EXCEEDED"
    assert "3 entries" in response.json()["errors"][0]["message"]
    assert code_of(router.post([])) == "BAD_REQUEST"


# CORS
def test_cors_preflight_for_an_allowed_origin(edge_router: RouterFactory) -> None:
    router = edge_router(
        cors={"origins": ["https://app.pizza.example"], "allow_credentials": True, "max_age": "1h"}
    )
    response = router.http.options(
        router.url,
        headers={
            "origin": "https://app.pizza.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, apollo-require-preflight",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://app.pizza.example"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "apollo-require-preflight" in response.headers["access-control-allow-headers"]
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-max-age"] == "3600"
    actual = router.post({"query": ME}, headers={"origin": "https://app.pizza.example"})
    assert actual.headers["access-control-allow-origin"] == "https://app.pizza.example"


def test_cors_refuses_other_origins(edge_router: RouterFactory) -> None:
    router = edge_router(cors={"origins": ["https://app.pizza.example"]})
    preflight = router.http.options(
        router.url,
        headers={"origin": "https://evil.example", "access-control-request-method": "POST"},
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    actual = router.post({"query": ME}, headers={"origin": "https://evil.example"})
    assert "access-control-allow-origin" not in actual.headers


def test_cors_default_is_apollo_studio_and_match_origins(edge_router: RouterFactory) -> None:
    router = edge_router(cors={"match_origins": [r"https://[a-z]+\.pizza\.example"]})
    for origin, allowed in [
        ("https://kiosk.pizza.example", True),
        ("https://studio.apollographql.com", True),  # Apollo Router's default origin
        ("https://pizza.example.evil.com", False),
    ]:
        response = router.post({"query": ME}, headers={"origin": origin})
        assert ("access-control-allow-origin" in response.headers) is allowed, origin


def test_cors_cannot_allow_credentials_for_any_origin() -> None:
    with pytest.raises(ValueError, match="allow_credentials"):
        RouterConfig.from_mapping({"cors": {"allow_any_origin": True, "allow_credentials": True}})


# CSRF prevention
@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ],
)
def test_simple_posts_are_blocked(edge_router: RouterFactory, content_type: str) -> None:
    router = edge_router()
    response = router.http.post(
        router.url, content=b'{"query": "{ me { name } }"}', headers={"content-type": content_type}
    )
    assert response.status_code == 400
    assert code_of(response) == "CSRF_ERROR"
    assert "Cross-Site Request Forgery" in response.json()["errors"][0]["message"]


def test_simple_get_is_blocked_and_a_required_header_lets_it_through(
    edge_router: RouterFactory,
) -> None:
    router = edge_router()
    blocked = router.get({"query": ME}, headers={})
    assert blocked.status_code == 400
    assert code_of(blocked) == "CSRF_ERROR"
    for header in ("apollo-require-preflight", "x-apollo-operation-name"):
        assert router.get({"query": ME}, headers={header: "1"}).json() == ADA
    # A non-simple content type is enough: browsers preflight it.
    assert router.post({"query": ME}).json() == ADA
    text = router.http.post(
        router.url,
        content=b'{"query": "{ me { name } }"}',
        headers={"content-type": "text/plain", "apollo-require-preflight": "true"},
    )
    assert text.json() == ADA


def test_csrf_headers_are_configurable_and_can_be_disabled(edge_router: RouterFactory) -> None:
    custom = edge_router(csrf={"required_headers": ["x-pizza-client"]})
    assert custom.get({"query": ME}, headers={"apollo-require-preflight": "1"}).status_code == 400
    assert custom.get({"query": ME}, headers={"x-pizza-client": "web"}).json() == ADA
    off = edge_router(csrf={"unsafe_disabled": True})
    assert off.get({"query": ME}, headers={}).json() == ADA


# Introspection
def test_introspection_off(edge_router: RouterFactory) -> None:
    router = edge_router(supergraph={"introspection": False})
    response = router.post({"query": "{ __schema { queryType { name } } }"})
    assert code_of(response) == "INTROSPECTION_DISABLED"
    assert "data" not in response.json()
    typed = router.post({"query": '{ __type(name: "User") { name } me { name } }'})
    assert code_of(typed) == "INTROSPECTION_DISABLED"
    assert router.post({"query": "{ __typename me { name } }"}).json()["data"]["me"]


def test_introspection_on(edge_router: RouterFactory) -> None:
    router = edge_router(supergraph={"introspection": True})
    body = router.post({"query": "{ __schema { queryType { name } } }"}).json()
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_introspection_per_environment() -> None:
    assert RouterConfig().with_env({"ROUTER_INTROSPECTION": "false"}).introspection is False
    on = RouterConfig(introspection=False).with_env({"ROUTER_INTROSPECTION": "true"})
    assert on.introspection is True


# Configuration
def test_router_yaml_reads_the_edge_sections() -> None:
    config = RouterConfig.from_mapping(
        {
            "apq": {
                "router": {
                    "cache": {"in_memory": {"limit": 7}, "redis": {"urls": ["redis://r:6379"]}}
                }
            },
            "limits": {"max_depth": 4, "http_max_request_bytes": 1000},
            "batching": {"enabled": True, "maximum_size": 5},
            "csrf": {"required_headers": ["X-Mine"]},
            "traffic_shaping": {
                "router": {
                    "global_rate_limit": {"capacity": 10, "interval": "1s"},
                    "ip_rate_limit": {"capacity": 5, "interval": "500ms"},
                }
            },
        }
    ).edge
    assert config.apq.in_memory_limit == 7 and config.apq.redis.url == "redis://r:6379"
    assert config.limits.max_depth == 4 and config.limits.http_max_request_bytes == 1000
    assert config.batching.maximum_size == 5
    assert config.csrf.required_headers == ("x-mine",)
    assert config.rate_limits.global_limit.capacity == 10
    assert config.rate_limits.ip.interval == 0.5


def test_redis_url_from_the_environment() -> None:
    config = RouterConfig().with_env({"ROUTER_REDIS_URL": "redis://cache:6379/1"}).edge
    assert config.apq.redis.url == "redis://cache:6379/1"
    assert config.rate_limits.redis.url == "redis://cache:6379/1"


def test_help_documents_the_edge() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "router", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
    )
    for word in (
        "apq",
        "persisted_queries",
        "safelist",
        "limits",
        "demand_control",
        "batching",
        "cors",
        "csrf",
        "global_rate_limit",
        "ip_rate_limit",
        "ROUTER_REDIS_URL",
        "manifest",
    ):
        assert word in completed.stdout, word


def test_health_is_not_subject_to_csrf(edge_router: RouterFactory) -> None:
    router = edge_router()
    assert httpx.get(router.url.removesuffix("/graphql") + "/health").status_code == 200


def test_failures_inside_the_edge_are_generic_500s(edge_router: RouterFactory) -> None:
    class Exploding:
        def is_partner(self, request: object) -> bool:
            raise RuntimeError("secret detail in /srv/router/edge.py")

    router = edge_router(partner_policy=Exploding())
    response = router.post({"query": ME})
    assert response.status_code == 500
    assert response.json() == {
        "errors": [
            {"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ]
    }
    assert "secret" not in response.text
