"""The committed SDL under schema/ is what the code produces (run `make compose` when this fails)."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.composition import compose_from_config
from shared.settings import SUBGRAPH_NAMES
from subgraphs.export_sdl import SCHEMA_DIR, subgraph_sdl

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", SUBGRAPH_NAMES)
def test_committed_subgraph_sdl_is_current(name: str) -> None:
    committed = (SCHEMA_DIR / f"{name}.graphql").read_text(encoding="utf-8")
    assert committed == subgraph_sdl(name), f"schema/{name}.graphql is stale: run `make compose`"


def test_committed_supergraph_is_current() -> None:
    committed = (SCHEMA_DIR / "supergraph.graphql").read_text(encoding="utf-8")
    composed = compose_from_config(str(ROOT / "supergraph.yaml"))
    assert committed.rstrip() == composed.rstrip(), (
        "schema/supergraph.graphql is stale: run `make compose`"
    )


def test_every_public_type_and_field_has_a_description() -> None:
    from graphql import is_enum_type, is_input_object_type, is_object_type

    from subgraphs import load_schema

    for name in SUBGRAPH_NAMES:
        schema = load_schema(name)._schema
        missing = []
        for type_name, gql_type in schema.type_map.items():
            if type_name.startswith("_"):
                continue
            if type_name.startswith(("__", "link__", "federation__")) or type_name in {
                "String",
                "Int",
                "Float",
                "Boolean",
                "ID",
            }:
                continue
            if type_name not in {"Query", "Mutation", "Subscription"} and not gql_type.description:
                missing.append(type_name)
            if is_object_type(gql_type) or is_input_object_type(gql_type):
                for field_name, field in gql_type.fields.items():
                    if not field_name.startswith("_") and not field.description:
                        missing.append(f"{type_name}.{field_name}")
            if is_enum_type(gql_type):
                for value_name, value in gql_type.values.items():
                    if not value.description:
                        missing.append(f"{type_name}.{value_name}")
        assert not missing, f"{name}: no description on {', '.join(missing)}"
