"""Automatic persisted queries over POST and GET, with the in-memory and the Redis cache."""

from __future__ import annotations

import json
from typing import Any

import pytest

from router.edge.apq import sha256_hex
from tests.edge.conftest import RouterFactory, code_of

QUERY = "{ topProducts(first: 2) { upc name } }"
SHA = sha256_hex(QUERY)
DATA = {"topProducts": [{"upc": "1", "name": "Table"}, {"upc": "2", "name": "Couch"}]}


def persisted(sha: str = SHA) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


def apq_config(cache: str, namespace: str | None) -> dict[str, Any]:
    if cache == "memory":
        return {"apq": {"enabled": True, "router": {"cache": {"in_memory": {"limit": 16}}}}}
    redis = {"urls": ["redis://127.0.0.1:6379/0"], "namespace": namespace, "ttl": "60s"}
    return {"apq": {"enabled": True, "router": {"cache": {"redis": redis}}}}


@pytest.fixture(params=["memory", "redis"])
def cache(request: pytest.FixtureRequest) -> tuple[str, str | None]:
    if request.param == "redis":
        return "redis", request.getfixturevalue("redis_namespace")
    return "memory", None


def test_miss_register_hit_over_post(
    edge_router: RouterFactory, cache: tuple[str, str | None]
) -> None:
    router = edge_router(**apq_config(*cache))
    miss = router.post({"extensions": persisted()})
    assert miss.status_code == 200  # Apollo clients retry with the query on this error
    assert code_of(miss) == "PERSISTED_QUERY_NOT_FOUND"
    assert miss.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert miss.headers["cache-control"] == "private, no-cache, must-revalidate"

    registered = router.post({"query": QUERY, "extensions": persisted()})
    assert registered.status_code == 200
    assert registered.json() == {"data": DATA}

    hit = router.post({"extensions": persisted()})
    assert hit.json() == {"data": DATA}


def test_miss_register_hit_over_get(
    edge_router: RouterFactory, cache: tuple[str, str | None]
) -> None:
    router = edge_router(**apq_config(*cache))
    extensions = json.dumps(persisted())
    assert code_of(router.get({"extensions": extensions})) == "PERSISTED_QUERY_NOT_FOUND"
    registered = router.get({"query": QUERY, "extensions": extensions})
    assert registered.json() == {"data": DATA}
    assert router.get({"extensions": extensions}).json() == {"data": DATA}


def test_hash_that_does_not_match_is_400_and_not_registered(
    edge_router: RouterFactory, cache: tuple[str, str | None]
) -> None:
    router = edge_router(**apq_config(*cache))
    wrong = sha256_hex("{ me { name } }")
    response = router.post({"query": QUERY, "extensions": persisted(wrong)})
    assert response.status_code == 400
    assert code_of(response) == "PERSISTED_QUERY_HASH_MISMATCH"
    assert "data" not in response.json()
    assert code_of(router.post({"extensions": persisted(wrong)})) == "PERSISTED_QUERY_NOT_FOUND"


def test_redis_cache_is_shared_by_replicas(
    edge_router: RouterFactory, redis_namespace: str
) -> None:
    first = edge_router(**apq_config("redis", redis_namespace))
    second = edge_router(**apq_config("redis", redis_namespace))
    assert first.post({"query": QUERY, "extensions": persisted()}).json() == {"data": DATA}
    assert second.post({"extensions": persisted()}).json() == {"data": DATA}


def test_memory_cache_is_per_router(edge_router: RouterFactory) -> None:
    first = edge_router(**apq_config("memory", None))
    second = edge_router(**apq_config("memory", None))
    first.post({"query": QUERY, "extensions": persisted()})
    assert code_of(second.post({"extensions": persisted()})) == "PERSISTED_QUERY_NOT_FOUND"


def test_unreachable_redis_degrades_to_misses(edge_router: RouterFactory) -> None:
    redis = {"urls": ["redis://127.0.0.1:1/0"], "namespace": "nowhere"}
    router = edge_router(apq={"router": {"cache": {"redis": redis}}})
    assert code_of(router.post({"extensions": persisted()})) == "PERSISTED_QUERY_NOT_FOUND"
    # Registration still works from the in-memory level.
    assert router.post({"query": QUERY, "extensions": persisted()}).json() == {"data": DATA}
    assert router.post({"extensions": persisted()}).json() == {"data": DATA}


def test_apq_disabled_answers_not_supported(edge_router: RouterFactory) -> None:
    router = edge_router(apq={"enabled": False})
    response = router.post({"extensions": persisted()})
    assert response.status_code == 400
    assert code_of(response) == "PERSISTED_QUERY_NOT_SUPPORTED"
    assert router.post({"query": QUERY}).json() == {"data": DATA}


@pytest.mark.parametrize(
    "extensions",
    [
        {"persistedQuery": {"version": 1}},
        {"persistedQuery": "abc"},
        {"persistedQuery": {"version": 1, "sha256Hash": "a" * 300}},
        "not json",
        [1],
    ],
)
def test_malformed_extension_is_a_bad_request(edge_router: RouterFactory, extensions: Any) -> None:
    router = edge_router()
    response = router.post({"extensions": extensions})
    assert response.status_code == 400
    assert code_of(response) == "BAD_REQUEST"
