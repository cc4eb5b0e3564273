"""API schema: the supergraph as clients see it.

In: the parsed supergraph SDL document. Out: a graphql-core ``GraphQLSchema`` without the
link/join machinery (types, directive definitions and applications) and without elements
marked ``@inaccessible``; used for validation, introspection and response nullability.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    GraphQLSchema,
    Node,
    NonNullTypeNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    build_ast_schema,
    value_from_ast_untyped,
)

# Directive applications that survive into the API schema.
_KEPT_DIRECTIVES = frozenset({"deprecated", "specifiedBy", "oneOf"})
# Directive definitions that belong to federation machinery, never to the API.
_MACHINERY_DIRECTIVES = frozenset(
    {
        "link",
        "inaccessible",
        "tag",
        "authenticated",
        "requiresScopes",
        "policy",
        "cost",
        "listSize",
        "context",
        "fromContext",
    }
)
_INACCESSIBLE = "inaccessible"


def linked_spec_names(document: DocumentNode) -> set[str]:
    """Local names of the specs the supergraph ``@link``s (``join``, ``link``, ``policy``...)."""
    names = {"link", "join"}
    for definition in document.definitions:
        if not isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for directive in definition.directives or ():
            if directive.name.value != "link":
                continue
            args = {
                a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()
            }
            url = str(args.get("url") or "")
            parts = [p for p in url.split("/") if p]
            spec = str(args.get("as") or (parts[-2] if len(parts) >= 2 else ""))
            if spec:
                names.add(spec)
    return names


def build_api_schema(document: DocumentNode) -> GraphQLSchema:
    """Build the client-facing schema from a supergraph document."""
    specs = linked_spec_names(document)
    prefixes = tuple(f"{spec}__" for spec in specs)
    inaccessible_types = {
        d.name.value
        for d in document.definitions
        if isinstance(d, TypeDefinitionNode) and _is_inaccessible(d)
    }
    definitions: list[Any] = []
    for definition in document.definitions:
        if isinstance(definition, DirectiveDefinitionNode):
            name = definition.name.value
            if name in _MACHINERY_DIRECTIVES or name in specs or name.startswith(prefixes):
                continue
            definitions.append(definition)
        elif isinstance(definition, TypeDefinitionNode | TypeExtensionNode):
            name = definition.name.value
            if name.startswith(prefixes) or name in inaccessible_types:
                continue
            definitions.append(_clean_type(definition, inaccessible_types))
        elif isinstance(definition, SchemaDefinitionNode):
            definitions.append(_copy(definition, directives=()))
        elif isinstance(definition, SchemaExtensionNode):
            continue
        else:
            definitions.append(definition)
    return build_ast_schema(DocumentNode(definitions=tuple(definitions)), assume_valid_sdl=True)


def _is_inaccessible(node: Any) -> bool:
    return any(d.name.value == _INACCESSIBLE for d in getattr(node, "directives", None) or ())


def _kept_directives(node: Any) -> tuple[Any, ...]:
    return tuple(d for d in node.directives or () if d.name.value in _KEPT_DIRECTIVES)


def _copy(node: Node, **changes: Any) -> Any:
    values = {key: getattr(node, key) for key in node.keys}
    values.update(changes)
    return type(node)(**values)


def _named_type(type_node: Any) -> str:
    while not hasattr(type_node, "name") or isinstance(type_node, NonNullTypeNode):
        type_node = type_node.type
    return str(type_node.name.value)


def _clean_type(definition: Any, inaccessible_types: set[str]) -> Any:
    changes: dict[str, Any] = {"directives": _kept_directives(definition)}
    if getattr(definition, "fields", None) is not None:
        changes["fields"] = tuple(
            _clean_field(f)
            for f in definition.fields
            if not _is_inaccessible(f) and _named_type(f.type) not in inaccessible_types
        )
    if getattr(definition, "values", None) is not None:
        changes["values"] = tuple(
            _copy(v, directives=_kept_directives(v))
            for v in definition.values
            if not _is_inaccessible(v)
        )
    if getattr(definition, "types", None) is not None:
        changes["types"] = tuple(
            t for t in definition.types if t.name.value not in inaccessible_types
        )
    if getattr(definition, "interfaces", None) is not None:
        changes["interfaces"] = tuple(
            i for i in definition.interfaces if i.name.value not in inaccessible_types
        )
    return _copy(definition, **changes)


def _clean_field(field: Any) -> Any:
    changes: dict[str, Any] = {"directives": _kept_directives(field)}
    if getattr(field, "arguments", None) is not None:
        changes["arguments"] = tuple(
            _copy(a, directives=_kept_directives(a))
            for a in field.arguments
            if not _is_inaccessible(a)
        )
    return _copy(field, **changes)
