"""Progressive ``@override`` (Federation 2.7 ``@override(from:, label:)``).

Per request each ``percent(N)`` label is enabled with probability N/100, other labels only when
the ``override_labels`` hook says so; an enabled label moves its field to the overriding
subgraph, a disabled one keeps the original (``usedOverridden``) subgraph. Plans are cached per
set of enabled labels. Subgraphs run in process (``tests.differential.subgraph``), composition
is ours (the differential case ``override_labels`` checks it against ``@apollo/composition``).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import orjson
import pytest

from router.composition import SubgraphDefinition, compose
from router.config import OverrideLabelContext, RouterConfig, load_override_label_hook
from router.gateway import Gateway
from router.supergraph import Supergraph, override_percent
from tests.differential.harness import obj, sdl
from tests.differential.subgraph import GenericSubgraph

QUERY = "{ orders { id total status notes } }"


def _data() -> dict[str, list[dict[str, Any]]]:
    order = obj("Order", id="o1", total=42, status="SHIPPED", notes="fragile")
    return {"Order": [order], "Query": [{"orders": [order]}]}


def _subgraphs(status_label: str, notes_label: str | None = None) -> dict[str, str]:
    notes = (
        f'notes: String! @override(from: "legacy", label: "{notes_label}")' if notes_label else ""
    )
    return {
        "legacy": sdl(
            """
            type Query { orders: [Order!]! }
            type Order @key(fields: "id") { id: ID! total: Int! status: String! notes: String! }
            """
        ),
        "modern": sdl(
            f"""
            type Order @key(fields: "id") {{
              id: ID!
              status: String! @override(from: "legacy", label: "{status_label}")
              {notes}
            }}
            """
        ),
    }


def _supergraph_sdl(subgraphs: dict[str, str]) -> str:
    result = compose(
        [
            SubgraphDefinition(name=n, url=f"http://{n}.test/graphql", sdl=s)
            for n, s in subgraphs.items()
        ]
    )
    assert not result.errors, result.errors
    return result.supergraph_sdl


class InProcessFetcher:
    """The gateway's fetcher, answering from ``GenericSubgraph``s; records every fetch."""

    def __init__(self, subgraphs: dict[str, str]) -> None:
        self.subgraphs = {
            name: GenericSubgraph(name=name, sdl=text, implements={}, data=_data)
            for name, text in subgraphs.items()
        }
        self.fetches: list[tuple[str, str]] = []

    async def fetch(
        self, service: str, body: bytes, client_headers: Any, *, shareable: bool = False
    ) -> dict[str, Any]:
        request = orjson.loads(body)
        self.fetches.append((service, request["query"]))
        return self.subgraphs[service].execute(request, _data())


def _gateway(
    subgraphs: dict[str, str],
    *,
    seed: int = 7,
    hook: Callable[[OverrideLabelContext], Iterable[str]] | str | None = None,
) -> tuple[Gateway, InProcessFetcher]:
    config = RouterConfig(override_labels=hook)
    gateway = Gateway.from_sdl(
        _supergraph_sdl(subgraphs), config, override_random=random.Random(seed)
    )
    fetcher = InProcessFetcher(subgraphs)
    gateway.fetcher = fetcher  # type: ignore[assignment]
    return gateway, fetcher


async def _served_by(gateway: Gateway, fetcher: InProcessFetcher, field: str, **kwargs: Any) -> str:
    """Run ``QUERY``; the subgraph whose fetch selected ``field``."""
    fetcher.fetches.clear()
    response = await gateway.execute(query=QUERY, **kwargs)
    assert response == {
        "data": {"orders": [{"id": "o1", "total": 42, "status": "SHIPPED", "notes": "fragile"}]}
    }
    (service,) = {s for s, q in fetcher.fetches if field in q}
    return service


def test_supergraph_reads_labels_and_builds_label_views() -> None:
    supergraph = Supergraph.parse(_supergraph_sdl(_subgraphs("percent(25)", "beta")))
    assert supergraph.override_label_names == {"percent(25)", "beta"}
    status = supergraph.types["Order"].fields["status"]
    assert status.graphs == {"legacy"}  # every label disabled: the original subgraph
    assert status.override_labels == {
        "legacy": ("percent(25)", False),
        "modern": ("percent(25)", True),
    }
    assert supergraph.with_override_labels(frozenset()) is supergraph
    assert supergraph.with_override_labels({"unknown"}) is supergraph
    view = supergraph.with_override_labels({"percent(25)", "unknown"})
    assert view is supergraph.with_override_labels({"percent(25)"})  # cached per label set
    assert view.enabled_override_labels == {"percent(25)"}
    assert view.types["Order"].fields["status"].graphs == {"modern"}
    assert view.types["Order"].fields["notes"].graphs == {"legacy"}
    both = supergraph.with_override_labels({"percent(25)", "beta"})
    assert both.types["Order"].fields["notes"].graphs == {"modern"}
    assert supergraph.types["Order"].fields["status"].graphs == {"legacy"}  # untouched
    with pytest.raises(ValueError):
        view.with_override_labels({"beta"})


def test_override_percent() -> None:
    assert override_percent("percent(0)") == 0
    assert override_percent("percent(12.5)") == 0.125
    assert override_percent("percent(100)") == 1
    assert override_percent("beta") is None


async def test_percent_0_always_serves_the_original_subgraph() -> None:
    gateway, fetcher = _gateway(_subgraphs("percent(0)"))
    served = Counter([await _served_by(gateway, fetcher, "status") for _ in range(50)])
    assert served == {"legacy": 50}
    assert len(fetcher.fetches) == 1  # one fetch: legacy resolves everything


async def test_percent_100_always_serves_the_overriding_subgraph() -> None:
    gateway, fetcher = _gateway(_subgraphs("percent(100)"))
    served = Counter([await _served_by(gateway, fetcher, "status") for _ in range(50)])
    assert served == {"modern": 50}
    assert [s for s, _ in fetcher.fetches] == ["legacy", "modern"]


async def test_percent_50_serves_both_sides() -> None:
    gateway, fetcher = _gateway(_subgraphs("percent(50)"), seed=2024)
    served = Counter([await _served_by(gateway, fetcher, "status") for _ in range(400)])
    assert set(served) == {"legacy", "modern"}
    assert 120 <= served["modern"] <= 280, served  # expected 200; deterministic seed
    assert len(gateway.plans._data) == 2  # one plan per label set: {} and {percent(50)}


async def test_percent_rolls_are_deterministic_per_seed() -> None:
    runs = []
    for _ in range(2):
        gateway, fetcher = _gateway(_subgraphs("percent(50)"), seed=99)
        runs.append([await _served_by(gateway, fetcher, "status") for _ in range(30)])
    assert runs[0] == runs[1]


async def test_custom_label_enabled_by_the_hook() -> None:
    seen: list[OverrideLabelContext] = []

    def hook(context: OverrideLabelContext) -> set[str]:
        seen.append(context)
        enabled = {"not-a-label"}  # ignored: not a label of the supergraph
        if context.headers.get("x-beta") == "on":
            enabled.add("beta")
        return enabled

    gateway, fetcher = _gateway(_subgraphs("percent(0)", "beta"), hook=hook)
    assert await _served_by(gateway, fetcher, "notes") == "legacy"
    assert await _served_by(gateway, fetcher, "notes", headers={"x-beta": "on"}) == "modern"
    assert await _served_by(gateway, fetcher, "status", headers={"x-beta": "on"}) == "legacy"
    assert seen[0].labels == {"beta"}  # percent labels are the router's to roll
    assert seen[0].query == QUERY
    assert seen[1].headers == {"x-beta": "on"}


async def test_custom_label_stays_disabled_without_hook_or_when_the_hook_fails() -> None:
    gateway, fetcher = _gateway(_subgraphs("percent(0)", "beta"))
    assert await _served_by(gateway, fetcher, "notes") == "legacy"

    def failing(context: OverrideLabelContext) -> set[str]:
        raise RuntimeError("coprocessor down")

    gateway, fetcher = _gateway(_subgraphs("percent(0)", "beta"), hook=failing)
    assert await _served_by(gateway, fetcher, "notes") == "legacy"


async def test_plan_cache_holds_one_plan_per_label_set() -> None:
    def hook(context: OverrideLabelContext) -> set[str]:
        return {"beta"} if context.headers.get("x-beta") else set()

    gateway, _ = _gateway(_subgraphs("percent(50)", "beta"), seed=5, hook=hook)
    planned: dict[frozenset[str], Any] = {}
    for i in range(60):
        headers = {"x-beta": "1"} if i % 2 else {}
        await gateway.execute(query=QUERY, headers=headers)
    keys = list(gateway.plans._data)
    label_sets = {key[-1] for key in keys}
    assert label_sets == {
        frozenset(),
        frozenset({"beta"}),
        frozenset({"percent(50)"}),
        frozenset({"percent(50)", "beta"}),
    }
    assert len(keys) == 4  # 2^k plans for k = 2 labels, then only cache hits
    for key in keys:
        planned[key[-1]] = gateway.plans._data[key]
    services = {
        labels: sorted({f.service_name for f in plan.plan.fetches()})
        for labels, plan in planned.items()
    }
    assert services[frozenset()] == ["legacy"]
    assert services[frozenset({"beta"})] == ["legacy", "modern"]
    # Passing the labels explicitly reuses the cached plan of that label set.
    prepared = gateway.prepare(QUERY, None)
    again = gateway.plan_for(QUERY, None, prepared, {}, override_labels=frozenset({"beta"}))
    assert again is planned[frozenset({"beta"})]
    assert len(gateway.plans._data) == 4


def test_hook_from_router_yaml_reference() -> None:
    config = RouterConfig.from_mapping(
        {"progressive_override": {"hook": "tests.router.test_progressive_override:beta_hook"}}
    )
    assert config.override_labels == "tests.router.test_progressive_override:beta_hook"
    assert load_override_label_hook(config.override_labels) is beta_hook
    assert load_override_label_hook(None) is None
    assert load_override_label_hook(beta_hook) is beta_hook
    with pytest.raises(ValueError):
        load_override_label_hook("no_attribute")


def beta_hook(context: OverrideLabelContext) -> set[str]:
    """An override-label hook referenced by module:attribute in the test above."""
    return {"beta"}
