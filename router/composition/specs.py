"""Definitions of the specs a supergraph links: link, join and composed directives.

In: a federation version (the highest one the subgraphs link).
Out: directive and type definitions (as `supergraph` model objects) for the
``link/v1.0`` and ``join/v0.3..v0.5`` specs, and the table of federation
directives whose applications are copied into the supergraph (``@tag``,
``@inaccessible``, ``@authenticated``, ``@requiresScopes``, ``@policy``,
``@cost``, ``@listSize``) with the spec each one links.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import parse
from graphql.language import (
    DirectiveDefinitionNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    ScalarTypeDefinitionNode,
    print_ast,
)

from router.composition.supergraph import (
    UNSET,
    DirectiveDef,
    EnumValueDef,
    InputValue,
    NamedType,
)
from router.composition.values import from_ast

LINK_URL = "https://specs.apollo.dev/link/v1.0"
FEDERATION_IDENTITY = "https://specs.apollo.dev/federation"

LINK_SDL = '''
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
scalar link__Import
enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}
'''

_JOIN_COMMON = """
directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION
scalar join__FieldSet
enum join__Graph
"""
_JOIN_FIELD_V03 = (
    "directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, "
    "type: String, external: Boolean, override: String, usedOverridden: Boolean"
)
_JOIN_DIRECTIVE = (
    "directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) "
    "repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION\nscalar join__DirectiveArguments\n"
)
_FIELD_LOCATIONS = ") repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION\n"
JOIN_SDL = {
    (0, 3): _JOIN_COMMON + _JOIN_FIELD_V03 + _FIELD_LOCATIONS,
    (0, 4): _JOIN_COMMON
    + _JOIN_DIRECTIVE
    + _JOIN_FIELD_V03
    + ", overrideLabel: String"
    + _FIELD_LOCATIONS,
    (0, 5): _JOIN_COMMON
    + _JOIN_DIRECTIVE
    + _JOIN_FIELD_V03
    + ", overrideLabel: String, contextArguments: [join__ContextArgument!]"
    + _FIELD_LOCATIONS
    + """
scalar join__FieldValue
input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}
""",
}


def join_version(federation_version: tuple[int, int]) -> tuple[int, int]:
    """The join spec version Apollo picks for the highest federation version used."""
    if federation_version >= (2, 8):
        return (0, 5)
    if federation_version >= (2, 7):
        return (0, 4)
    return (0, 3)


@dataclass(frozen=True, slots=True)
class ComposedDirectiveSpec:
    """A federation directive that is copied into the supergraph, and its spec."""

    name: str
    spec: str
    version: str
    purpose: str | None
    sdl: str


_ALL_LOCATIONS = (
    "FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | "
    "ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION"
)
_AUTH_LOCATIONS = "FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM"

# In the order of the federation spec's registered directives, which is the
# order Apollo adds the corresponding `@link`s to the supergraph.
COMPOSED_DIRECTIVES: tuple[ComposedDirectiveSpec, ...] = (
    ComposedDirectiveSpec(
        "tag",
        "tag",
        "v0.3",
        None,
        f"directive @tag(name: String!) repeatable on {_ALL_LOCATIONS} | SCHEMA",
    ),
    ComposedDirectiveSpec(
        "inaccessible",
        "inaccessible",
        "v0.2",
        "SECURITY",
        f"directive @inaccessible on {_ALL_LOCATIONS}",
    ),
    ComposedDirectiveSpec(
        "authenticated",
        "authenticated",
        "v0.1",
        "SECURITY",
        f"directive @authenticated on {_AUTH_LOCATIONS}",
    ),
    ComposedDirectiveSpec(
        "requiresScopes",
        "requiresScopes",
        "v0.1",
        "SECURITY",
        "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on "
        f"{_AUTH_LOCATIONS}\nscalar requiresScopes__Scope",
    ),
    ComposedDirectiveSpec(
        "policy",
        "policy",
        "v0.1",
        "SECURITY",
        f"directive @policy(policies: [[policy__Policy!]!]!) on {_AUTH_LOCATIONS}\nscalar policy__Policy",
    ),
    ComposedDirectiveSpec(
        "cost",
        "cost",
        "v0.1",
        None,
        "directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | "
        "INPUT_FIELD_DEFINITION | OBJECT | SCALAR",
    ),
    ComposedDirectiveSpec(
        "listSize",
        "cost",
        "v0.1",
        None,
        "directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], "
        "requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
    ),
)
COMPOSED_BY_NAME = {spec.name: spec for spec in COMPOSED_DIRECTIVES}
ACCESS_CONTROL = ("authenticated", "requiresScopes", "policy")


def parse_definitions(sdl: str) -> tuple[list[DirectiveDef], list[NamedType]]:
    """Turn spec SDL (directives, scalars, enums, inputs) into model objects."""
    directives: list[DirectiveDef] = []
    types: list[NamedType] = []
    for node in parse(sdl, no_location=True).definitions:
        description = node.description.value if getattr(node, "description", None) else None
        if isinstance(node, DirectiveDefinitionNode):
            directives.append(
                DirectiveDef(
                    name=node.name.value,
                    args={a.name.value: _input_value(a) for a in node.arguments or ()},
                    repeatable=node.repeatable,
                    locations=[loc.value for loc in node.locations],
                    description=description,
                )
            )
        elif isinstance(node, ScalarTypeDefinitionNode):
            types.append(NamedType("scalar", node.name.value, description))
        elif isinstance(node, EnumTypeDefinitionNode):
            values = {
                v.name.value: EnumValueDef(
                    v.name.value, v.description.value if v.description else None
                )
                for v in node.values or ()
            }
            types.append(NamedType("enum", node.name.value, description, values=values))
        elif isinstance(node, InputObjectTypeDefinitionNode):
            fields = {f.name.value: _input_value(f) for f in node.fields or ()}
            types.append(NamedType("input", node.name.value, description, input_fields=fields))
    return directives, types


def _input_value(node: InputValueDefinitionNode) -> InputValue:
    return InputValue(
        name=node.name.value,
        type=print_ast(node.type),
        default=from_ast(node.default_value) if node.default_value is not None else UNSET,
        description=node.description.value if node.description else None,
    )
