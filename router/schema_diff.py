"""Breaking and dangerous changes between two versions of a schema (docs/versioning.md).

In: an old and a new SDL, either a subgraph's (``_service { sdl }``, as under ``schema/``)
or a supergraph's. Out: `SchemaChange`s printed as ``service: TYPE Coordinate — description``.

Why graphql-core's detector: ``graphql.utilities`` already classifies every change a client
can observe (removed types, fields, arguments and enum values, changed field and argument
types, new required arguments and input fields, union members, interfaces, directives) as
breaking or dangerous, with the same rules as graphql-js's ``findBreakingChanges``. It
compares built ``GraphQLSchema``s, so the only work here is to build the schema clients see:

* supergraph: the API schema the router serves (`router.api_schema.build_api_schema`, i.e.
  without ``join``/``link`` machinery and ``@inaccessible`` elements);
* subgraph: the SDL without federation machinery (``@link``, ``_Any``, ``_Entity``,
  ``_Service``, ``_entities``, ``_service``, ``link__``/``federation__`` definitions and all
  federation directive applications), so ``@key`` or ``@shareable`` edits are not reported.

One deviation: graphql-core reports a standard scalar (``Int``...) that is no longer referenced
as a removed type; that only echoes the field or argument change that dropped its last use, so
it is left out (one change, one line to announce).

In graphql-core 3.3 ``find_breaking_changes``/``find_dangerous_changes`` are deprecated
filters over ``find_schema_changes``; we call that once and filter the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    GraphQLSchema,
    Node,
    NonNullTypeNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    build_ast_schema,
    is_specified_scalar_type,
    parse,
)
from graphql.utilities import BreakingChangeType, DangerousChangeType, find_schema_changes

from router.api_schema import build_api_schema
from router.composition.subgraph_sdl import FEDERATION_DIRECTIVES

_KEPT_DIRECTIVES = frozenset({"deprecated", "specifiedBy", "oneOf"})
_MACHINERY_DIRECTIVES = frozenset({*FEDERATION_DIRECTIVES, "link"})
_MACHINERY_TYPES = frozenset({"_Any", "_Entity", "_Service", "_FieldSet", "FieldSet"})
_MACHINERY_PREFIXES = ("link__", "federation__")
_MACHINERY_FIELDS = frozenset({"_entities", "_service"})

# A schema coordinate in graphql-core's descriptions: Type.field, Type.field(arg:), @dir(arg:).
_COORDINATE = re.compile(
    r"@?[_A-Za-z]\w*(?:\.[_A-Za-z]\w*(?:\([_A-Za-z]\w*:\))?|\([_A-Za-z]\w*:\))"
)
_DIRECTIVE = re.compile(r"@[_A-Za-z]\w*")
_UNION = re.compile(r"union type ([_A-Za-z]\w*)")
_NAME = re.compile(r"(?:Standard scalar )?([_A-Za-z]\w*)")


@dataclass(frozen=True, slots=True)
class SchemaChange:
    """One breaking (or, with ``breaking=False``, dangerous) change of ``service``'s schema."""

    service: str
    type: str
    coordinate: str
    description: str
    breaking: bool = True

    def __str__(self) -> str:
        return f"{self.service}: {self.type} {self.coordinate} — {self.description}"


def supergraph_api_schema(sdl: str) -> GraphQLSchema:
    """The client-facing schema of a supergraph SDL."""
    return build_api_schema(parse(sdl))


def subgraph_api_schema(sdl: str) -> GraphQLSchema:
    """A subgraph's SDL as a plain GraphQL schema, without federation machinery."""
    document = parse(sdl)
    query_root = "Query"
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            for op in definition.operation_types or ():
                if op.operation.value == "query":
                    query_root = op.type.name.value
    removed_types = {
        d.name.value
        for d in document.definitions
        if isinstance(d, TypeDefinitionNode | TypeExtensionNode)
        and _is_machinery_type(d.name.value)
    }
    definitions: list[Any] = []
    for definition in document.definitions:
        if isinstance(definition, DirectiveDefinitionNode):
            name = definition.name.value
            if name not in _MACHINERY_DIRECTIVES and not name.startswith(_MACHINERY_PREFIXES):
                definitions.append(definition)
        elif isinstance(definition, TypeDefinitionNode | TypeExtensionNode):
            if definition.name.value in removed_types:
                continue
            drop = _MACHINERY_FIELDS if definition.name.value == query_root else frozenset()
            definitions.append(_strip(definition, drop, removed_types))
        elif isinstance(definition, SchemaDefinitionNode):
            definitions.append(_copy(definition, directives=()))
        elif isinstance(definition, SchemaExtensionNode):
            if definition.operation_types:
                definitions.append(_copy(definition, directives=()))
        else:
            definitions.append(definition)
    return build_ast_schema(DocumentNode(definitions=tuple(definitions)), assume_valid_sdl=True)


def diff_schemas(service: str, old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    """Breaking changes first, then dangerous ones, each in graphql-core's order."""
    breaking: list[SchemaChange] = []
    dangerous: list[SchemaChange] = []
    for change in find_schema_changes(old, new):
        if change.type is BreakingChangeType.TYPE_REMOVED and is_specified_scalar_type(
            old.type_map.get(coordinate_of(change.description))
        ):
            continue  # "Standard scalar Int was removed": only follows the field that used it
        if isinstance(change.type, BreakingChangeType):
            breaking.append(_change(service, change, breaking=True))
        elif isinstance(change.type, DangerousChangeType):
            dangerous.append(_change(service, change, breaking=False))
    return breaking + dangerous


def diff_subgraph_sdl(service: str, old_sdl: str, new_sdl: str) -> list[SchemaChange]:
    """Changes between two SDLs of one subgraph."""
    return diff_schemas(service, subgraph_api_schema(old_sdl), subgraph_api_schema(new_sdl))


def diff_supergraph_sdl(service: str, old_sdl: str, new_sdl: str) -> list[SchemaChange]:
    """Changes between the API schemas of two supergraph SDLs."""
    return diff_schemas(service, supergraph_api_schema(old_sdl), supergraph_api_schema(new_sdl))


def coordinate_of(description: str) -> str:
    """The schema coordinate a graphql-core change description is about."""
    for pattern in (_COORDINATE, _DIRECTIVE, _UNION):
        match = pattern.search(description)
        if match:
            return match.group(1) if match.groups() else match.group(0)
    match = _NAME.match(description)
    return match.group(1) if match else ""


def _change(service: str, change: Any, *, breaking: bool) -> SchemaChange:
    return SchemaChange(
        service=service,
        type=change.type.name,
        coordinate=coordinate_of(change.description),
        description=change.description,
        breaking=breaking,
    )


def _is_machinery_type(name: str) -> bool:
    return name in _MACHINERY_TYPES or name.startswith(_MACHINERY_PREFIXES)


def _kept(node: Any) -> tuple[Any, ...]:
    return tuple(d for d in node.directives or () if d.name.value in _KEPT_DIRECTIVES)


def _copy(node: Node, **changes: Any) -> Any:
    values = {key: getattr(node, key) for key in node.keys}
    values.update(changes)
    return type(node)(**values)


def _named_type(type_node: Any) -> str:
    while not hasattr(type_node, "name") or isinstance(type_node, NonNullTypeNode):
        type_node = type_node.type
    return str(type_node.name.value)


def _strip(definition: Any, drop_fields: frozenset[str], removed_types: set[str]) -> Any:
    changes: dict[str, Any] = {"directives": _kept(definition)}
    fields = getattr(definition, "fields", None)
    if fields is not None:
        is_object = isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode)
        changes["fields"] = tuple(
            _copy(
                f,
                directives=_kept(f),
                **(
                    {"arguments": tuple(_copy(a, directives=_kept(a)) for a in f.arguments)}
                    if getattr(f, "arguments", None)
                    else {}
                ),
            )
            for f in fields
            if not (is_object and f.name.value in drop_fields)
            and _named_type(f.type) not in removed_types
        )
    if getattr(definition, "values", None) is not None:
        changes["values"] = tuple(_copy(v, directives=_kept(v)) for v in definition.values)
    if getattr(definition, "types", None) is not None:
        changes["types"] = tuple(t for t in definition.types if t.name.value not in removed_types)
    return _copy(definition, **changes)
