"""orders: the schema documents itself (every public type, field, argument and enum value)."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
)

from subgraphs.orders.schema import schema

BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}
ROOTS = {"Query", "Mutation", "Subscription"}


def undocumented(graphql_schema) -> list[str]:
    """Paths of public schema elements without a description."""
    missing = []
    for name, kind in graphql_schema.type_map.items():
        if name.startswith("_") or name in BUILT_IN or "__" in name:
            continue
        if not kind.description and name not in ROOTS:
            missing.append(name)
        if isinstance(kind, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in kind.values.items() if not value.description]
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in kind.fields.items():
                if field_name.startswith("_"):
                    continue
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(kind, GraphQLUnionType) and not kind.description:
            missing.append(name)
    return missing


def test_every_public_element_has_a_description() -> None:
    assert undocumented(schema._schema) == []


def test_order_is_the_entity_and_user_store_are_extended() -> None:
    sdl = schema.as_str()
    assert 'type Order @key(fields: "id")' in sdl
    assert 'type User @key(fields: "id")' in sdl
    assert 'type Store @key(fields: "id")' in sdl
    assert 'type Product @key(fields: "id", resolvable: false)' in sdl
