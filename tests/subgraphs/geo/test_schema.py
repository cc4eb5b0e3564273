"""The geo schema documents itself: every type, field, argument and enum value."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)

from subgraphs.geo.schema import schema

FEDERATION_FIELDS = {"_entities", "_service"}


def test_every_public_type_field_argument_and_enum_value_has_a_description() -> None:
    missing = []
    for name, type_ in schema._schema.type_map.items():
        if name.startswith(("_", "link__")):  # introspection and federation machinery
            continue
        if name not in {"Query", "Mutation"} and not type_.description:
            missing.append(name)
        if isinstance(type_, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in type_.values.items() if not value.description]
        if isinstance(type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if field_name in FEDERATION_FIELDS:
                    continue
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
    assert missing == [], missing
