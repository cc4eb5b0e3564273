"""Planner fixes found by the differential suite, pinned on plans (no node needed).

Each test plans one query of a differential case over the case's supergraph (composed by our
Python composition) and asserts the fetches Apollo's gateway also makes.
"""

from __future__ import annotations

from router.composition import SubgraphDefinition, compose
from router.operation import normalize, prepare_operation
from router.plan import FetchNode, QueryPlan
from router.planner import QueryPlanner
from router.supergraph import Supergraph
from tests.differential.conftest import CASES


def plan_of(case_name: str, query_name: str) -> QueryPlan:
    """The plan of one query of a differential case."""
    case = CASES[case_name]
    query = case.query(query_name)
    result = compose(
        [
            SubgraphDefinition(name=n, url=f"http://{n}/graphql", sdl=t)
            for n, t in case.subgraphs.items()
        ]
    )
    assert result.supergraph_sdl is not None, result.errors
    supergraph = Supergraph.parse(result.supergraph_sdl)
    prepared = prepare_operation(supergraph.api_schema, query.text, query.operation_name)
    variables = query.variables or {}
    conditions = {name: bool(variables.get(name)) for name in prepared.condition_variables}
    selection = normalize(supergraph.api_schema, prepared, conditions)
    return QueryPlanner(supergraph).plan(selection, operation=prepared.operation)


def services(plan: QueryPlan) -> list[str]:
    """The subgraph of each fetch, depth first."""
    return [fetch.service_name for fetch in plan.fetches()]


def test_shareable_root_field_goes_to_the_subgraph_needing_fewest_fetches() -> None:
    assert services(plan_of("shareable_choice", "catalog_with_stock")) == ["pricing"]


def test_entity_jump_prefers_the_subgraph_serving_most_sibling_fields() -> None:
    plan = plan_of("shareable_choice", "catalog_all")
    assert sorted(services(plan)) == ["pricing", "ratings"]


def test_provides_on_a_root_field_makes_external_fields_local() -> None:
    assert services(plan_of("provides_nested", "fully_provided")) == ["payroll"]


def test_interface_object_fields_need_no_runtime_type() -> None:
    assert services(plan_of("interface_object_two_subgraphs", "from_activity")) == [
        "activity",
        "audit",
    ]


def test_interface_object_field_after_the_runtime_type_is_keyed_by_the_concrete_type() -> None:
    plan = plan_of("interface_object_two_keys", "from_serial_with_types")
    assert services(plan) == ["telemetry", "devices", "assets"]
    (assets,) = [f for f in plan.fetches() if f.service_name == "assets"]
    assert assets.requires is not None
    assert {(r.type_condition, r.entity_type) for r in assets.requires} == {("Laptop", "Device")}


def test_inaccessible_key_and_required_fields_are_fetched() -> None:
    plan = plan_of("inaccessible_keys_and_requires", "requires_inaccessible_field")
    crm, loyalty = plan.fetches()
    assert "internalId" in crm.operation and "internalCode" in crm.operation
    assert isinstance(loyalty, FetchNode) and loyalty.service_name == "loyalty"


def test_consecutive_mutation_fields_of_one_subgraph_share_a_fetch() -> None:
    plan = plan_of("mutation_returning_interface", "adopt_two")
    assert services(plan) == ["shelter", "vet", "vet"]


def test_mutation_fields_of_alternating_subgraphs_keep_their_order() -> None:
    assert services(plan_of("mutations_in_order", "interleaved")) == [
        "ledger",
        "interest",
        "ledger",
        "interest",
    ]


def test_required_fields_keep_their_arguments() -> None:
    shop, _ = plan_of("required_field_with_arguments", "label").fetches()
    assert 'price(currency:"EUR")' in shop.operation


def test_required_field_with_other_arguments_than_the_client_is_aliased() -> None:
    shop, labels = plan_of("required_field_with_arguments", "label_and_other_price").fetches()
    assert 'price(currency:"USD")' in shop.operation
    assert '_fed_price:price(currency:"EUR")' in shop.operation
    assert labels.requires is not None
    (fragment,) = labels.requires
    assert ("price", "_fed_price") in {
        (f.name, getattr(f, "response_key", None)) for f in fragment.selections
    }
