"""``compose_from_config`` reads Rover's supergraph.yaml: files and running subgraphs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from router.composition import CompositionFailed, compose_from_config
from router.composition import config as config_module
from tests.composition.conftest import ERROR_FIXTURES, FIXTURES

CONFIG_WITH_FILES = """
federation_version: =2.11.0
subgraphs:
  menu:
    routing_url: http://menu:4001/graphql
    schema:
      file: {menu}
  orders:
    routing_url: http://orders:4002/graphql
    schema:
      file: {orders}
"""

CONFIG_WITH_URL = """
federation_version: =2.11.0
subgraphs:
  menu:
    routing_url: http://menu:4001/graphql
    schema:
      subgraph_url: http://localhost:4001/graphql
  orders:
    routing_url: http://orders:4002/graphql
    schema:
      file: {orders}
"""


def test_files_are_read_relative_to_the_yaml(tmp_path: Path) -> None:
    case = FIXTURES / "strawberry_style"
    (tmp_path / "schemas").mkdir()
    for name in ("menu", "orders"):
        (tmp_path / "schemas" / f"{name}.graphql").write_text(
            (case / f"{name}.graphql").read_text()
        )
    path = tmp_path / "supergraph.yaml"
    path.write_text(
        CONFIG_WITH_FILES.format(menu="schemas/menu.graphql", orders="schemas/orders.graphql")
    )
    sdl = compose_from_config(str(path))
    assert 'MENU @join__graph(name: "menu", url: "http://menu:4001/graphql")' in sdl
    assert "placeOrder(pizzaIds: [ID!]!): Order! @join__field(graph: ORDERS)" in sdl


def test_subgraph_url_is_queried_for_service_sdl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = FIXTURES / "strawberry_style"
    seen: list[dict[str, Any]] = []

    def fake_post(url: str, *, json: dict[str, Any], timeout: float) -> httpx.Response:
        seen.append({"url": url, **json})
        body = {"data": {"_service": {"sdl": (case / "menu.graphql").read_text()}}}
        return httpx.Response(200, json=body, request=httpx.Request("POST", url))

    monkeypatch.setattr(config_module.httpx, "post", fake_post)
    (tmp_path / "orders.graphql").write_text((case / "orders.graphql").read_text())
    path = tmp_path / "supergraph.yaml"
    path.write_text(CONFIG_WITH_URL.format(orders="orders.graphql"))
    sdl = compose_from_config(str(path))
    assert seen == [{"url": "http://localhost:4001/graphql", "query": "{ _service { sdl } }"}]
    assert "addPizza(name: String!): Pizza! @join__field(graph: MENU)" in sdl


def test_composition_errors_raise_with_readable_message(tmp_path: Path) -> None:
    case = ERROR_FIXTURES / "non_shareable_field"
    path = tmp_path / "supergraph.yaml"
    path.write_text(CONFIG_WITH_FILES.format(menu=case / "a.graphql", orders=case / "b.graphql"))
    with pytest.raises(CompositionFailed) as failure:
        compose_from_config(str(path))
    assert failure.value.errors[0].code == "INVALID_FIELD_SHARING"
    assert 'INVALID_FIELD_SHARING: Non-shareable field "Pizza.name"' in str(failure.value)
