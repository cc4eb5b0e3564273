"""Parse one subgraph's SDL into a federation-aware model.

In: a subgraph name, URL and SDL text, as Strawberry prints it
(``schema @link(url: ".../federation/v2.x", import: [...]) {...}`` with
``_service``/``_entities``) or hand-written (``extend schema @link(...)``).
Out: a `Subgraph` holding types, fields and applied directives in source
order, with federation directives resolved through ``@link`` imports,
renames (``as``) and the ``federation__`` prefix, and the federation
machinery (``_Any``, ``_Entity``, ``_Service``, ``_entities``, ``_service``,
link/federation definitions) removed. Syntax errors become ``INVALID_GRAPHQL``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLSyntaxError, parse
from graphql.language import (
    DirectiveDefinitionNode,
    DirectiveNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    InputObjectTypeDefinitionNode,
    InputObjectTypeExtensionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    ScalarTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    print_ast,
)

from router.composition.errors import CompositionError, subgraph_error
from router.composition.values import from_ast

FEDERATION_DIRECTIVES = (
    "key", "requires", "provides", "external", "tag", "extends", "shareable", "inaccessible",
    "override", "composeDirective", "interfaceObject", "authenticated", "requiresScopes",
    "policy", "context", "fromContext", "cost", "listSize", "cacheTag",
)  # fmt: skip
_FEDERATION_URL = re.compile(r"^https://specs\.apollo\.dev/federation/v(\d+)\.(\d+)$")
_FEDERATION_TYPES = {
    "_Any",
    "_Service",
    "_Entity",
    "_FieldSet",
    "FieldSet",
    "link__Import",
    "link__Purpose",
}
_ROOT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}

_KINDS: dict[type, str] = {
    ObjectTypeDefinitionNode: "object",
    ObjectTypeExtensionNode: "object",
    InterfaceTypeDefinitionNode: "interface",
    InterfaceTypeExtensionNode: "interface",
    UnionTypeDefinitionNode: "union",
    UnionTypeExtensionNode: "union",
    EnumTypeDefinitionNode: "enum",
    EnumTypeExtensionNode: "enum",
    InputObjectTypeDefinitionNode: "input",
    InputObjectTypeExtensionNode: "input",
    ScalarTypeDefinitionNode: "scalar",
    ScalarTypeExtensionNode: "scalar",
}


@dataclass(slots=True)
class Directive:
    """An applied directive; ``name`` is the name used in the subgraph."""

    name: str
    args: dict[str, Any]
    on_extension: bool = False

    def __str__(self) -> str:
        from router.composition.values import value_to_string

        args = ", ".join(f"{k}: {value_to_string(v)}" for k, v in self.args.items())
        return f"@{self.name}" + (f"({args})" if args else "")


@dataclass(slots=True)
class InputValue:
    """An argument or input field in a subgraph."""

    name: str
    type: str
    default: Any
    has_default: bool
    description: str | None
    directives: list[Directive]
    coordinate: str = ""


@dataclass(slots=True)
class Field:
    """A field of an object or interface type (or an input field via ``input``)."""

    name: str
    type: str
    parent: str
    args: dict[str, InputValue] = field(default_factory=dict)
    description: str | None = None
    directives: list[Directive] = field(default_factory=list)
    on_extension: bool = False
    default: Any = None
    has_default: bool = False

    @property
    def coordinate(self) -> str:
        """``Type.field``."""
        return f"{self.parent}.{self.name}"


@dataclass(slots=True)
class EnumValue:
    """An enum value in a subgraph."""

    name: str
    description: str | None
    directives: list[Directive]


@dataclass(slots=True)
class TypeDef:
    """A named type, definition and extensions folded together in source order."""

    kind: str
    name: str
    description: str | None = None
    directives: list[Directive] = field(default_factory=list)
    fields: dict[str, Field] = field(default_factory=dict)
    interfaces: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    values: dict[str, EnumValue] = field(default_factory=dict)
    has_definition: bool = False
    has_extension: bool = False


@dataclass(slots=True)
class DirectiveDefinition:
    """A custom directive definition found in the subgraph SDL."""

    name: str
    args: dict[str, InputValue]
    repeatable: bool
    locations: list[str]
    description: str | None


@dataclass
class Subgraph:
    """One parsed subgraph."""

    name: str
    url: str
    federation_version: tuple[int, int]
    fed_names: dict[str, str]
    types: dict[str, TypeDef]
    roots: dict[str, str]
    directive_definitions: dict[str, DirectiveDefinition]
    is_fed1: bool = False
    _canonical: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._canonical = {local: canonical for canonical, local in self.fed_names.items()}

    def canonical(self, directive: Directive) -> str | None:
        """The federation name (``key``, ``tag``...) of a directive, if it is one."""
        return self._canonical.get(directive.name)

    def applied(self, directives: list[Directive], canonical: str) -> list[Directive]:
        """The applications of a federation directive among ``directives``."""
        local = self.fed_names[canonical]
        return [d for d in directives if d.name == local]

    def has(self, directives: list[Directive], canonical: str) -> bool:
        """Whether a federation directive is applied."""
        local = self.fed_names[canonical]
        return any(d.name == local for d in directives)

    def implementations(self, interface: str) -> list[TypeDef]:
        """Object types implementing ``interface`` in this subgraph."""
        return [t for t in self.types.values() if t.kind == "object" and interface in t.interfaces]


def parse_subgraph(name: str, url: str, sdl: str) -> Subgraph | CompositionError:
    """Parse SDL into a `Subgraph`, or return an ``INVALID_GRAPHQL`` error."""
    try:
        document = parse(sdl, no_location=False)
    except GraphQLSyntaxError as exc:
        return subgraph_error("INVALID_GRAPHQL", name, exc.message)

    version, fed_names, is_fed1 = _federation_link(document.definitions)
    roots: dict[str, str] = {}
    for node in document.definitions:
        if isinstance(node, SchemaDefinitionNode | SchemaExtensionNode):
            for op in node.operation_types or ():
                roots[op.operation.value] = op.type.name.value
    renames = {type_name: _ROOT_NAMES[kind] for kind, type_name in roots.items()}

    hidden_directives = set(fed_names.values()) | {"link"}
    types: dict[str, TypeDef] = {}
    directive_definitions: dict[str, DirectiveDefinition] = {}
    for node in document.definitions:
        if isinstance(node, DirectiveDefinitionNode):
            if node.name.value not in hidden_directives:
                directive_definitions[node.name.value] = DirectiveDefinition(
                    name=node.name.value,
                    args={a.name.value: _input_value(a, renames, "") for a in node.arguments or ()},
                    repeatable=node.repeatable,
                    locations=[loc.value for loc in node.locations],
                    description=node.description.value if node.description else None,
                )
            continue
        if not isinstance(node, TypeDefinitionNode | TypeExtensionNode):
            continue
        type_name = renames.get(node.name.value, node.name.value)
        if type_name in _FEDERATION_TYPES or type_name.startswith("federation__"):
            continue
        _add_type_node(types, node, type_name, renames)

    query = types.setdefault("Query", TypeDef("object", "Query", has_definition=True))
    for fed_field in ("_entities", "_service"):
        query.fields.pop(fed_field, None)
    effective_roots = {kind: _ROOT_NAMES[kind] for kind in roots} or {
        kind: root for kind, root in _ROOT_NAMES.items() if root in types
    }
    effective_roots.setdefault("query", "Query")
    return Subgraph(
        name=name,
        url=url,
        federation_version=version,
        fed_names=fed_names,
        types=types,
        roots=effective_roots,
        directive_definitions=directive_definitions,
        is_fed1=is_fed1,
    )


def _federation_link(definitions: Any) -> tuple[tuple[int, int], dict[str, str], bool]:
    """Find the federation ``@link`` and map each federation directive to its local name."""
    for node in definitions:
        if not isinstance(node, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        for directive in node.directives or ():
            if directive.name.value != "link":
                continue
            args = {a.name.value: from_ast(a.value) for a in directive.arguments or ()}
            match = _FEDERATION_URL.match(str(args.get("url", "")))
            if not match:
                continue
            alias = args.get("as") or "federation"
            names = {name: f"{alias}__{name}" for name in FEDERATION_DIRECTIVES}
            for imported in args.get("import") or ():
                original, local = (
                    (imported, imported)
                    if isinstance(imported, str)
                    else (imported.get("name", ""), imported.get("as") or imported.get("name", ""))
                )
                if original.startswith("@") and original[1:] in names:
                    names[original[1:]] = local.lstrip("@")
            return (int(match.group(1)), int(match.group(2))), names, False
    # Federation 1 subgraph: directives are used under their plain names.
    return (2, 0), {name: name for name in FEDERATION_DIRECTIVES}, True


def _directives(
    nodes: Any, renames: dict[str, str], *, on_extension: bool = False
) -> list[Directive]:
    return [
        Directive(
            name=d.name.value,
            args={a.name.value: from_ast(a.value) for a in d.arguments or ()},
            on_extension=on_extension,
        )
        for d in nodes or ()
        if isinstance(d, DirectiveNode)
    ]


def _type_ref(node: Any, renames: dict[str, str]) -> str:
    printed = print_ast(node)
    if not renames:
        return printed
    base = printed.strip("[]!")
    return printed.replace(base, renames.get(base, base)) if base in renames else printed


def _input_value(
    node: InputValueDefinitionNode, renames: dict[str, str], parent: str
) -> InputValue:
    return InputValue(
        name=node.name.value,
        type=_type_ref(node.type, renames),
        default=from_ast(node.default_value) if node.default_value is not None else None,
        has_default=node.default_value is not None,
        description=node.description.value if node.description else None,
        directives=_directives(node.directives, renames),
        coordinate=f"{parent}({node.name.value}:)" if parent else node.name.value,
    )


def _add_type_node(
    types: dict[str, TypeDef], node: Any, name: str, renames: dict[str, str]
) -> None:
    kind = _KINDS[type(node)]
    is_extension = isinstance(node, TypeExtensionNode)
    t = types.get(name)
    if t is None:
        t = types[name] = TypeDef(kind, name)
    if is_extension:
        t.has_extension = True
    else:
        t.has_definition = True
        if node.description is not None:
            t.description = node.description.value
    t.directives.extend(_directives(node.directives, renames, on_extension=is_extension))
    for itf in getattr(node, "interfaces", None) or ():
        if itf.name.value not in t.interfaces:
            t.interfaces.append(itf.name.value)
    for member in getattr(node, "types", None) or ():
        t.members.append(renames.get(member.name.value, member.name.value))
    for value in getattr(node, "values", None) or ():
        t.values[value.name.value] = EnumValue(
            value.name.value,
            value.description.value if value.description else None,
            _directives(value.directives, renames),
        )
    for f in getattr(node, "fields", None) or ():
        is_input = kind == "input"
        t.fields[f.name.value] = Field(
            name=f.name.value,
            type=_type_ref(f.type, renames),
            parent=name,
            args={}
            if is_input
            else {
                a.name.value: _input_value(a, renames, f"{name}.{f.name.value}")
                for a in f.arguments or ()
            },
            description=f.description.value if f.description else None,
            directives=_directives(f.directives, renames),
            on_extension=is_extension,
            default=from_ast(f.default_value) if is_input and f.default_value is not None else None,
            has_default=is_input and f.default_value is not None,
        )
