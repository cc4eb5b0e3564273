"""Depth, height, root field, alias and cost limits: under and over each threshold, computed
once per prepared operation."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from graphql import build_schema

from router.config import RouterConfig
from router.edge.config import DemandControlConfig, LimitsConfig
from router.edge.limits import WALK_BUDGET, OperationLimits
from router.errors import RequestError
from router.gateway import Gateway
from router.operation import prepare_operation
from tests.edge.conftest import FIXTURE_SUPERGRAPH, RouterFactory, code_of

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.mark.parametrize(
    ("limits", "under", "over", "code"),
    [
        (
            {"max_depth": 3},
            "{ topProducts { reviews { body } } }",
            "{ topProducts { reviews { author { name } } } }",
            "MAX_DEPTH_LIMIT",
        ),
        (
            {"max_height": 3},
            "{ me { id ...N } } fragment N on User { name }",
            "{ me { id ...N } } fragment N on User { name username }",
            "MAX_HEIGHT_LIMIT",
        ),
        (
            {"max_root_fields": 2},
            "{ me { id } warehouseName }",
            "{ me { id } warehouseName users { id } }",
            "MAX_ROOT_FIELDS_LIMIT",
        ),
        (
            {"max_aliases": 1},
            "{ a: me { id } }",
            "{ a: me { id } b: me { name } }",
            "MAX_ALIASES_LIMIT",
        ),
    ],
)
def test_limit_over_and_under(
    edge_router: RouterFactory, limits: dict[str, int], under: str, over: str, code: str
) -> None:
    router = edge_router(limits=limits)
    ok = router.post({"query": under})
    assert ok.status_code == 200 and "errors" not in ok.json(), ok.text
    refused = router.post({"query": over})
    assert refused.status_code == 200  # application/json: request errors travel with 200
    assert code_of(refused) == code
    assert "data" not in refused.json()
    strict = router.post({"query": over}, headers={"accept": GRAPHQL_RESPONSE})
    assert strict.status_code == 400
    assert code_of(strict) == code


COST = {"enabled": True, "strategy": {"static_estimated": {"list_size": 10, "max": 20}}}


@pytest.mark.parametrize(
    ("query", "variables", "allowed"),
    [
        ("{ topProducts(first: 5) { upc } }", None, True),  # 5 products
        ("{ topProducts(first: 5) { reviews { body } } }", None, False),  # 5 * (1 + 10)
        ("{ topProducts(first: 1) { reviews { body } } }", None, True),  # 1 * (1 + 10)
        ("query($n: Int!) { topProducts(first: $n) { upc } }", {"n": 5}, True),
        ("query($n: Int!) { topProducts(first: $n) { upc } }", {"n": 50}, False),
        ('mutation { renameUser(id: "1", name: "Ada Lovelace") { name } }', None, True),  # 11
    ],
)
def test_cost_is_estimated_from_list_sizes(
    edge_router: RouterFactory, query: str, variables: dict[str, Any] | None, allowed: bool
) -> None:
    router = edge_router(demand_control=COST)
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = variables
    response = router.post(body)
    if allowed:
        assert "errors" not in response.json(), response.text
    else:
        assert code_of(response) == "COST_ESTIMATED_TOO_EXPENSIVE"


def test_measure_mode_only_logs(
    edge_router: RouterFactory, caplog: pytest.LogCaptureFixture
) -> None:
    router = edge_router(demand_control={**COST, "mode": "measure"})
    with caplog.at_level(logging.WARNING, logger="router.edge"):
        response = router.post({"query": "{ topProducts(first: 5) { reviews { body } } }"})
    assert "errors" not in response.json()
    assert any("cost" in record.getMessage() for record in caplog.records)


def test_analysis_is_computed_once_per_prepared_operation(monkeypatch: pytest.MonkeyPatch) -> None:
    config = RouterConfig.from_mapping({"limits": {"max_depth": 5}})
    gateway = Gateway.from_sdl(FIXTURE_SUPERGRAPH.read_text(encoding="utf-8"), config)
    calls = []
    analyze = OperationLimits.analyze

    def counting(self: OperationLimits, prepared: Any) -> Any:
        calls.append(prepared)
        return analyze(self, prepared)

    monkeypatch.setattr(OperationLimits, "analyze", counting)
    query = "{ topProducts { reviews { body } } }"
    first = gateway.prepare(query, None)
    second = gateway.prepare(query, None)
    assert first is second and len(calls) == 1
    assert (first.analysis.depth, first.analysis.height, first.analysis.root_fields) == (3, 3, 1)


def test_no_limits_means_no_analysis() -> None:
    gateway = Gateway.from_sdl(FIXTURE_SUPERGRAPH.read_text(encoding="utf-8"), RouterConfig())
    assert gateway.prepare("{ me { id } }", None).analysis is None


COST_SDL = """
directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!],
  requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
directive @cost(weight: Int!) on FIELD_DEFINITION
type Query {
  items(count: Int): [Item!]! @listSize(slicingArguments: ["count"])
  fixed: [Item!]! @listSize(assumedSize: 3)
  page(first: Int): Page @listSize(slicingArguments: ["first"], sizedFields: ["edges"])
  expensive: Int @cost(weight: 50)
  plain: [Item!]!
}
type Item { id: ID! tags: [String!]! child: Item }
type Page { edges: [Item!]! other: [Item!]! }
"""


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        ("{ items(count: 4) { id } }", {}, 4),
        ("{ fixed { child { id } } }", {}, 6),
        ("{ page(first: 2) { edges { id } other { id } } }", {}, 13),
        ("{ expensive }", {}, 50),
        ("{ plain { tags } }", {}, 10),
        ("query($c: Int) { items(count: $c) { id } }", {"c": 7}, 7),
        ("query($c: Int) { items(count: $c) { id } }", {}, 10),
        ("{ items(count: 2) { id __typename } __schema { types { name } } }", {}, 2),
    ],
)
def test_list_size_and_cost_directives(query: str, variables: dict[str, Any], cost: int) -> None:
    schema = build_schema(COST_SDL)
    limits = OperationLimits(
        schema,
        limits=LimitsConfig(),
        demand_control=DemandControlConfig(enabled=True, list_size=10, max=cost),
        supergraph_sdl=COST_SDL,
    )
    prepared = prepare_operation(schema, query, None)
    prepared.analysis = limits.analyze(prepared)
    assert prepared.analysis.estimated_cost(variables, 10) == cost
    limits.check(prepared, variables)  # exactly at the maximum passes
    over = OperationLimits(
        schema,
        limits=LimitsConfig(),
        demand_control=DemandControlConfig(enabled=True, list_size=10, max=cost - 1),
        supergraph_sdl=COST_SDL,
    )
    with pytest.raises(RequestError) as refused:
        over.check(prepared, variables)
    assert refused.value.code == "COST_ESTIMATED_TOO_EXPENSIVE"


def test_fragment_explosion_is_cut_off() -> None:
    schema = build_schema("type Query { node: Node } type Node { a: Node b: Node id: ID }")
    levels = 24  # 2**24 paths once spread
    fragments = ["fragment F0 on Node { id }"]
    for level in range(1, levels):
        fragments.append(
            f"fragment F{level} on Node {{ a {{ ...F{level - 1} }} b {{ ...F{level - 1} }} }}"
        )
    query = f"{{ node {{ ...F{levels - 1} }} }} {' '.join(fragments)}"
    limits = OperationLimits(
        schema, limits=LimitsConfig(max_depth=100), demand_control=DemandControlConfig()
    )
    prepared = prepare_operation(schema, query, None)
    prepared.analysis = limits.analyze(prepared)
    assert prepared.analysis.height > WALK_BUDGET
    with pytest.raises(RequestError) as refused:
        limits.check(prepared, {})
    assert refused.value.code == "MAX_HEIGHT_LIMIT"


def test_parser_stops_at_the_token_limit(edge_router: RouterFactory) -> None:
    router = edge_router(limits={"parser_max_tokens": 50})
    assert "errors" not in router.post({"query": "{ me { id name } }"}).json()
    wide = "{ " + " ".join(f"a{n}: warehouseName" for n in range(30)) + " }"
    response = router.post({"query": wide})
    assert code_of(response) == "GRAPHQL_PARSE_FAILED"
    assert "tokens" in response.json()["errors"][0]["message"]


def test_default_token_limit_is_apollo_routers() -> None:
    assert RouterConfig().edge.limits.parser_max_tokens == 15_000


def test_warn_only_logs_and_runs(
    edge_router: RouterFactory, caplog: pytest.LogCaptureFixture
) -> None:
    router = edge_router(limits={"max_depth": 1, "warn_only": True})
    with caplog.at_level(logging.WARNING, logger="router.edge"):
        response = router.post({"query": "{ me { name } }"})
    assert response.json() == {"data": {"me": {"name": "Ada Lovelace"}}}
    assert any("MAX_DEPTH_LIMIT" in record.getMessage() for record in caplog.records)
