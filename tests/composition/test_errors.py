"""Composition errors name the Apollo code, the subgraph(s) and the ``Type.field``."""

from __future__ import annotations

import pytest

from router.composition import compose
from tests.composition.conftest import ERROR_FIXTURES, load_case

EXPECTED = {
    "non_shareable_field": ("INVALID_FIELD_SHARING", ['"a"', '"b"'], "Pizza.name"),
    "type_mismatch": ("FIELD_TYPE_MISMATCH", ['"a"', '"b"'], "Pizza.price"),
    "key_missing_field": ("KEY_INVALID_FIELDS", ["[a]"], '"sku"'),
    "key_on_list": ("KEY_INVALID_FIELDS", ["[a]"], "Pizza.toppings"),
    "requires_not_external": ("REQUIRES_FIELDS_MISSING_EXTERNAL", ["[a]"], "Pizza.weight"),
    "provides_not_external": ("PROVIDES_FIELDS_MISSING_EXTERNAL", ["[a]"], "Pizza.name"),
    "external_missing_on_base": ("EXTERNAL_MISSING_ON_BASE", ['"a"'], "Pizza.name"),
    "unknown_type": ("INVALID_GRAPHQL", ["[a]"], "Pizza"),
    "invalid_graphql": ("INVALID_GRAPHQL", ["[a]"], "Syntax Error"),
    "satisfiability_field_without_key": ("SATISFIABILITY_ERROR", ['"a"', '"b"'], '"Pizza.weight"'),
    "satisfiability_requires_unreachable": ("SATISFIABILITY_ERROR", ['"a"', '"b"'], '"Pizza.cost"'),
    "satisfiability_requires_missing_key": ("SATISFIABILITY_ERROR", ['"b"'], '"Pizza.cost"'),
    "satisfiability_key_not_resolvable": ("SATISFIABILITY_ERROR", ['"b"'], '"Pizza.topping"'),
    "requires_unknown_argument": ("REQUIRES_INVALID_FIELDS", ["[b]", '"a"'], '"Pizza.weight"'),
    "inaccessible_type_referenced": ("REFERENCED_INACCESSIBLE", [], '"Query.secret"'),
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_error_code_and_message_name_subgraph_and_field(case: str) -> None:
    code, subgraphs, coordinate = EXPECTED[case]
    result = compose(load_case(ERROR_FIXTURES / case))
    assert result.supergraph_sdl is None
    assert result.errors, "composition should fail"
    error = result.errors[0]
    assert error.code == code
    for subgraph in subgraphs:
        assert subgraph in error.message
    assert coordinate in error.message
