"""Our composition against ``@apollo/composition`` on every fixture under fixtures/."""

from __future__ import annotations

from typing import Any

import pytest

from router.composition import compose
from tests.composition.conftest import (
    ERROR_FIXTURES,
    FIXTURES,
    error_cases,
    load_case,
    success_cases,
)
from tests.composition.normalize import normalized_sdl

pytestmark = pytest.mark.npm


@pytest.mark.parametrize("case", success_cases())
def test_supergraph_is_byte_identical_to_apollo(case: str, apollo_results: dict[str, Any]) -> None:
    expected = apollo_results[case]
    assert "supergraphSdl" in expected, expected
    result = compose(load_case(FIXTURES / case))
    assert result.errors == []
    assert result.supergraph_sdl == expected["supergraphSdl"]


@pytest.mark.parametrize("case", success_cases())
def test_supergraph_is_equivalent_to_apollo_up_to_ordering(
    case: str, apollo_results: dict[str, Any]
) -> None:
    result = compose(load_case(FIXTURES / case))
    assert result.supergraph_sdl is not None
    assert normalized_sdl(result.supergraph_sdl) == normalized_sdl(
        apollo_results[case]["supergraphSdl"]
    )


@pytest.mark.parametrize("case", error_cases())
def test_error_codes_match_apollo(case: str, apollo_results: dict[str, Any]) -> None:
    expected = apollo_results[case]["errors"]
    result = compose(load_case(ERROR_FIXTURES / case))
    assert result.supergraph_sdl is None
    assert [e.code for e in result.errors] == [e["code"] for e in expected]


@pytest.mark.parametrize("case", [c for c in error_cases() if c != "invalid_graphql"])
def test_error_messages_match_apollo(case: str, apollo_results: dict[str, Any]) -> None:
    expected = apollo_results[case]["errors"]
    result = compose(load_case(ERROR_FIXTURES / case))
    assert [e.message for e in result.errors] == [e["message"] for e in expected]
