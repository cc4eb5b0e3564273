"""make schema-check: breaking changes between two SDLs, and when a break is announced."""

from __future__ import annotations

import pytest

from router.schema_diff import SchemaChange, diff_subgraph_sdl, diff_supergraph_sdl
from subgraphs.export_sdl import SCHEMA_DIR
from subgraphs.schema_check import (
    SERVICES,
    VERSIONS_PATH,
    Versions,
    allows_break,
    load_versions,
    main,
    parse_version,
    unannounced,
)

# A subgraph SDL as Strawberry prints it, federation machinery included.
BASE = '''
schema @link(url: "https://specs.apollo.dev/federation/v2.11", import: ["@key", "@shareable"]) {
  query: Query
}

"""A pizza."""
type Pizza @key(fields: "id") {
  id: ID!
  name: String!
  price: Int!
  size: Size!
}

enum Size {
  SMALL
  LARGE
}

type Query {
  pizza(id: ID!): Pizza @shareable
  pizzas: [Pizza!]!
  _entities(representations: [_Any!]!): [_Entity]!
  _service: _Service!
}

scalar _Any

union _Entity = Pizza

type _Service {
  sdl: String!
}
'''


def breaking(new: str) -> list[SchemaChange]:
    return [c for c in diff_subgraph_sdl("menu", BASE, new) if c.breaking]


def test_removed_field_is_breaking() -> None:
    [change] = breaking(BASE.replace("  price: Int!\n", ""))
    assert str(change) == "menu: FIELD_REMOVED Pizza.price — Field Pizza.price was removed."


def test_changed_type_is_breaking() -> None:
    [change] = breaking(BASE.replace("price: Int!", "price: String!"))
    assert (change.type, change.coordinate) == ("FIELD_CHANGED_KIND", "Pizza.price")


def test_new_required_argument_is_breaking() -> None:
    [change] = breaking(BASE.replace("pizzas: [Pizza!]!", "pizzas(storeId: ID!): [Pizza!]!"))
    assert (change.type, change.coordinate) == ("REQUIRED_ARG_ADDED", "Query.pizzas(storeId:)")


def test_removed_enum_value_is_breaking() -> None:
    [change] = breaking(BASE.replace("  LARGE\n", ""))
    assert (change.type, change.coordinate) == ("VALUE_REMOVED_FROM_ENUM", "Size.LARGE")


def test_added_optional_field_and_federation_edits_are_not_breaking() -> None:
    new = BASE.replace("  size: Size!\n", "  size: Size!\n  vegan: Boolean\n").replace(
        " @shareable", ""
    )
    assert diff_subgraph_sdl("menu", BASE, new) == []


def _versions(menu: str, *announced: str) -> Versions:
    return Versions({"menu": parse_version(menu)}, set(announced))


def test_unannounced_break_fails_and_announced_one_with_a_bump_passes() -> None:
    changes = breaking(BASE.replace("  price: Int!\n", ""))
    line = str(changes[0])
    base = _versions("0.1.0")
    assert unannounced(changes, _versions("0.1.0"), base) == changes
    assert unannounced(changes, _versions("0.2.0"), base) == changes  # bumped, not listed
    assert unannounced(changes, _versions("0.1.1", line), base) == changes  # listed, patch only
    assert unannounced(changes, _versions("0.2.0", line), base) == []
    assert (
        unannounced(changes, _versions("0.2.0", "menu: Field Pizza.price was removed."), base) == []
    )


def test_version_rules() -> None:
    assert allows_break((0, 1, 0), (0, 2, 0))
    assert allows_break((0, 9, 3), (1, 0, 0))
    assert not allows_break((0, 1, 0), (0, 1, 5))
    assert allows_break((1, 4, 2), (2, 0, 0))
    assert not allows_break((1, 4, 2), (1, 5, 0))
    assert allows_break(None, (0, 1, 0))
    with pytest.raises(ValueError):
        parse_version("1.0")


def test_versions_file_lists_every_service() -> None:
    versions = load_versions((SCHEMA_DIR.parent / VERSIONS_PATH).read_text(encoding="utf-8"))
    assert set(versions.services) == set(SERVICES)


@pytest.mark.parametrize("path", sorted(SCHEMA_DIR.glob("*.graphql")), ids=lambda p: p.stem)
def test_committed_schema_has_no_change_against_itself(path) -> None:
    sdl = path.read_text(encoding="utf-8")
    diff = diff_supergraph_sdl if path.stem == "supergraph" else diff_subgraph_sdl
    assert diff(path.stem, sdl, sdl) == []


def test_schema_check_passes_on_the_committed_schema(capsys) -> None:
    assert main([]) == 0
    assert "no unannounced breaking change" in capsys.readouterr().out


def test_schema_check_fails_on_an_unannounced_break(monkeypatch, capsys) -> None:
    import subgraphs.schema_check as schema_check

    monkeypatch.setattr(schema_check, "base_sdls", lambda rev: {"menu": BASE})
    monkeypatch.setattr(
        schema_check, "current_sdls", lambda: {"menu": BASE.replace("  price: Int!\n", "")}
    )
    assert main([]) == 1
    out = capsys.readouterr().out
    assert "menu: FIELD_REMOVED Pizza.price — Field Pizza.price was removed." in out
    assert "1 unannounced breaking change(s)" in out
