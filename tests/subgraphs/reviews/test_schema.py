"""reviews's schema documents itself and speaks Federation 2."""

from __future__ import annotations

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType

from subgraphs.reviews.schema import schema


def undocumented(graphql_schema) -> list[str]:
    """Every public type, field, argument and enum value without a description."""
    missing = []
    for name, gtype in graphql_schema.type_map.items():
        if name.startswith("_") or name.startswith("link__") or name == "FieldSet":
            continue
        if not gtype.description and name not in {"String", "Int", "Float", "Boolean", "ID"}:
            missing.append(name)
        if isinstance(gtype, GraphQLObjectType | GraphQLInputObjectType):
            for fname, fdef in gtype.fields.items():
                if fname.startswith("_"):
                    continue
                if not fdef.description:
                    missing.append(f"{name}.{fname}")
                missing += [
                    f"{name}.{fname}({a})"
                    for a, adef in getattr(fdef, "args", {}).items()
                    if not adef.description
                ]
        if isinstance(gtype, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, vdef in gtype.values.items() if not vdef.description]
    return missing


def test_every_type_field_argument_and_enum_value_is_described() -> None:
    assert undocumented(schema._schema) == []


def test_product_driver_order_and_user_are_extended_by_id() -> None:
    sdl = schema.as_str()
    for entity in ("Product", "Driver", "Order", "User"):
        assert f'type {entity} @key(fields: "id")' in sdl
