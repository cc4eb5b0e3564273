"""GraphQL-over-HTTP behaviour of the router: statuses, codes, content types, GET, health."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.npm

GRAPHQL_RESPONSE = "application/graphql-response+json"
ME = "{ me { name } }"
PREFLIGHT = {"apollo-require-preflight": "true"}  # GETs pass CSRF prevention (router.edge.csrf)


def test_health(http: httpx.Client, router_url: str) -> None:
    response = http.get(router_url.removesuffix("/graphql") + "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_malformed_json_is_a_bad_request(http: httpx.Client, router_url: str) -> None:
    response = http.post(
        router_url, content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_missing_query_is_a_bad_request(http: httpx.Client, router_url: str) -> None:
    response = http.post(router_url, json={"variables": {}})
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_parse_error_has_its_code_and_status_200_for_json(
    http: httpx.Client, router_url: str
) -> None:
    response = http.post(
        router_url, json={"query": "{ me { "}, headers={"accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert "data" not in response.json()


def test_parse_error_is_400_for_graphql_response_json(http: httpx.Client, router_url: str) -> None:
    response = http.post(
        router_url, json={"query": "{ me { "}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


def test_validation_error_has_its_code(http: httpx.Client, router_url: str) -> None:
    plain = http.post(router_url, json={"query": "{ me { nope } }"})
    assert plain.status_code == 200
    assert plain.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    strict = http.post(
        router_url, json={"query": "{ me { nope } }"}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert strict.status_code == 400


def test_join_machinery_is_not_queryable(http: httpx.Client, router_url: str) -> None:
    response = http.post(
        router_url, json={"query": "{ _entities(representations: []) { __typename } }"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_unknown_operation_name_has_its_code(http: httpx.Client, router_url: str) -> None:
    response = http.post(
        router_url, json={"query": "query A { me { name } }", "operationName": "B"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_UNKNOWN_OPERATION_NAME"


def test_operation_name_selects_the_operation(http: httpx.Client, router_url: str) -> None:
    query = "query A { me { name } } query B { topProducts(first: 1) { upc } }"
    response = http.post(router_url, json={"query": query, "operationName": "B"})
    assert response.json() == {"data": {"topProducts": [{"upc": "1"}]}}


def test_invalid_variable_has_its_code(http: httpx.Client, router_url: str) -> None:
    query = "query($n: Int!) { topProducts(first: $n) { upc } }"
    response = http.post(router_url, json={"query": query, "variables": {"n": "many"}})
    assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION_INVALID_TYPE_VARIABLE"


def test_get_serves_queries(http: httpx.Client, router_url: str) -> None:
    response = http.get(router_url, params={"query": ME}, headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"name": "Ada Lovelace"}}}


def test_get_with_variables(http: httpx.Client, router_url: str) -> None:
    query = "query($n: Int!) { topProducts(first: $n) { upc } }"
    response = http.get(
        router_url, params={"query": query, "variables": '{"n": 1}'}, headers=PREFLIGHT
    )
    assert response.json() == {"data": {"topProducts": [{"upc": "1"}]}}


def test_mutation_over_get_is_405(http: httpx.Client, router_url: str) -> None:
    query = 'mutation { renameUser(id: "9", name: "x") { name } }'
    response = http.get(router_url, params={"query": query}, headers=PREFLIGHT)
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


def test_response_content_type_follows_accept(http: httpx.Client, router_url: str) -> None:
    response = http.post(router_url, json={"query": ME}, headers={"accept": GRAPHQL_RESPONSE})
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {"data": {"me": {"name": "Ada Lovelace"}}}
