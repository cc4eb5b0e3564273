"""Our router against ``@apollo/gateway`` over the very same subgraphs, case by case.

For every query of every case (``tests/differential/cases``): the responses must be equal
(``data`` and the error paths) and our plan must use no more subgraph fetches than Apollo's.
Queries marked with a ``known_difference`` assert the documented difference instead (see
``KNOWN_DIFFERENCES.md``). Each case's supergraph must also compose identically with our
Python composition.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from router.composition import SubgraphDefinition, compose
from tests.differential.cases import ALL_CASES
from tests.differential.conftest import CASES, Composed, subgraph_definitions
from tests.differential.harness import Case, Query
from tests.differential.subgraph import SubgraphHost

pytestmark = pytest.mark.npm

QUERY_IDS = [(case.name, name) for case in ALL_CASES for name in case.queries]


def comparable(response: dict[str, Any]) -> dict[str, Any]:
    """What must agree: ``data`` and the sorted error paths.

    ``@apollo/gateway`` reports null-propagation errors under ``extensions.valueCompletion``
    instead of ``errors``; they count as errors here (KNOWN_DIFFERENCES.md).
    """
    errors = [
        *(response.get("errors") or ()),
        *((response.get("extensions") or {}).get("valueCompletion") or ()),
    ]
    paths = sorted((json_path(e.get("path")) for e in errors), key=str)
    return {"data": response.get("data"), "error_paths": paths}


def json_path(path: Any) -> list[Any] | None:
    return list(path) if isinstance(path, list) else None


def run(
    http: httpx.Client, host: SubgraphHost, base_url: str, case: Case, query: Query
) -> tuple[dict[str, Any], Counter[str]]:
    """POST ``query`` to the gateway at ``base_url`` on fresh data; the body and the fetches."""
    host.reset(case.name, down=query.down)
    body: dict[str, Any] = {"query": query.text}
    if query.variables is not None:
        body["variables"] = query.variables
    if query.operation_name is not None:
        body["operationName"] = query.operation_name
    response = http.post(f"{base_url}/{case.name}/graphql", json=body)
    assert response.headers.get("content-type", "").startswith("application/json"), response.text
    return response.json(), host.fetches(case.name)


@pytest.mark.parametrize(
    ("case_name", "query_name"), QUERY_IDS, ids=[f"{c}-{q}" for c, q in QUERY_IDS]
)
def test_router_agrees_with_apollo_gateway(
    case_name: str,
    query_name: str,
    composed: Composed,
    subgraph_host: tuple[SubgraphHost, str],
    router_url: str,
    apollo_url: str,
    http: httpx.Client,
) -> None:
    case = CASES[case_name]
    assert case_name not in composed.errors, composed.errors.get(case_name)
    host, _ = subgraph_host
    query = case.query(query_name)
    ours, our_fetches = run(http, host, router_url, case, query)
    theirs, their_fetches = run(http, host, apollo_url, case, query)
    detail = {
        "ours": ours,
        "apollo": theirs,
        "our_fetches": our_fetches,
        "apollo_fetches": their_fetches,
    }
    if query.known_difference is None:
        assert comparable(ours) == comparable(theirs), detail
    else:
        # An asserted exception (KNOWN_DIFFERENCES.md): still different, and ours as expected.
        mine, apollo = comparable(ours), comparable(theirs)
        assert mine != apollo, f"{query.known_difference!r} no longer reproduces: {detail}"
        for key in ("data", "error_paths"):
            wanted = query.expected.get(key, apollo[key])
            if key == "error_paths":
                wanted = sorted(wanted, key=str)
            assert mine[key] == wanted, detail
    assert our_fetches.total() <= their_fetches.total(), detail


@pytest.mark.parametrize("case_name", [case.name for case in ALL_CASES])
def test_python_composition_agrees_with_apollo(
    case_name: str, composed: Composed, subgraph_host: tuple[SubgraphHost, str]
) -> None:
    _, base_url = subgraph_host
    case = CASES[case_name]
    ours = compose(
        [SubgraphDefinition(**definition) for definition in subgraph_definitions(case, base_url)]
    )
    if case_name in composed.errors:
        assert not ours.ok, composed.errors[case_name]
        return
    assert ours.errors == [], ours.errors
    assert ours.supergraph_sdl == composed.sdl[case_name]
