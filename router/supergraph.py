"""Supergraph model: which subgraph can resolve what.

In: a supergraph SDL as ``@apollo/composition`` (Federation 2, join/v0.5) prints it.
Out: a ``Supergraph`` holding the subgraphs (name, url), per type the subgraphs defining it and
their ``@key``s, per field the subgraphs that resolve it (with ``@requires``/``@provides``/
``@external``/``@override`` applied), interface implementations and union members per
subgraph, and the API schema (see ``router.api_schema``) used for validation.

Progressive ``@override`` (``overrideLabel``): a field's ``graphs`` hold the owners with every
label disabled (the original, overridden subgraph); ``Supergraph.with_override_labels`` is the
view in which the enabled labels move their fields to the overriding subgraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldDefinitionNode,
    GraphQLSchema,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SchemaDefinitionNode,
    SelectionSetNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    UnionTypeExtensionNode,
    parse,
    value_from_ast_untyped,
)
from graphql.language import REMOVE, OperationType, Visitor, visit

from router.errors import SupergraphError


@dataclass(frozen=True, slots=True)
class Subgraph:
    """A subgraph named in the ``join__Graph`` enum."""

    name: str
    url: str


@dataclass(frozen=True, slots=True)
class EntityKey:
    """One ``@key`` of a type in one subgraph."""

    graph: str
    fields: str
    selection: SelectionSetNode
    resolvable: bool


@dataclass(slots=True)
class FieldInfo:
    """Where a field of a composite type can be resolved."""

    parent: str
    name: str
    graphs: frozenset[str]
    """Subgraphs that resolve the field themselves (not external, not overridden)."""
    external_in: frozenset[str] = frozenset()
    """Subgraphs declaring the field ``@external`` (resolvable there only when provided)."""
    requires: dict[str, SelectionSetNode] = field(default_factory=dict)
    provides: dict[str, SelectionSetNode] = field(default_factory=dict)
    override_labels: dict[str, tuple[str, bool]] = field(default_factory=dict)
    """Per subgraph resolving the field only under a progressive ``@override``: its label and
    whether the label must be enabled (the overriding subgraph) or disabled (the original)."""

    def graphs_for(self, enabled: frozenset[str]) -> frozenset[str]:
        """The subgraphs resolving the field when exactly the labels ``enabled`` are on."""
        if not self.override_labels:
            return self.graphs
        fixed = {g for g in self.graphs if g not in self.override_labels}
        fixed.update(
            g for g, (label, on) in self.override_labels.items() if (label in enabled) == on
        )
        return frozenset(fixed)


_PERCENT = re.compile(r"^percent\((\d{1,2}(?:\.\d{1,8})?|100)\)$")


def override_percent(label: str) -> float | None:
    """The probability (0..1) of a ``percent(N)`` label; ``None`` for any other label."""
    match = _PERCENT.match(label)
    return None if match is None else float(match.group(1)) / 100


@dataclass(slots=True)
class TypeInfo:
    """A named type of the supergraph and its presence in each subgraph."""

    name: str
    kind: str
    """``object``, ``interface``, ``union``, ``enum``, ``input`` or ``scalar``."""
    graphs: frozenset[str]
    keys: tuple[EntityKey, ...] = ()
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    implements: dict[str, frozenset[str]] = field(default_factory=dict)
    """Per subgraph, the interfaces this type implements there."""
    members: dict[str, frozenset[str]] = field(default_factory=dict)
    """Per subgraph, the members of this union there."""
    interface_object_graphs: frozenset[str] = frozenset()

    def resolvable_keys(self, graph: str) -> list[EntityKey]:
        """The keys through which ``graph`` can resolve this type as an entity."""
        return [k for k in self.keys if k.graph == graph and k.resolvable]


@dataclass(slots=True)
class Supergraph:
    """The parsed supergraph: subgraphs, type/field ownership and the API schema."""

    subgraphs: dict[str, Subgraph]
    types: dict[str, TypeInfo]
    api_schema: GraphQLSchema
    root_types: dict[OperationType, str]
    sdl: str = ""
    planning_schema: GraphQLSchema | None = None
    """The API schema with ``@inaccessible`` elements kept: key and required fields may be
    inaccessible to clients, the planner still fetches them. ``None`` when nothing is
    inaccessible (``api_schema`` serves)."""
    override_label_names: frozenset[str] = frozenset()
    """Every progressive ``@override`` label (``overrideLabel``) of the supergraph."""
    enabled_override_labels: frozenset[str] = frozenset()
    """The labels this view was built for (empty: every label disabled, the parsed model)."""
    _label_views: dict[frozenset[str], Supergraph] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def parse(cls, sdl: str, *, override_urls: dict[str, str] | None = None) -> Supergraph:
        """Parse a supergraph SDL; ``override_urls`` replaces subgraph URLs by subgraph name."""
        from router.api_schema import build_api_schema

        try:
            document = parse(sdl, no_location=True)
        except Exception as error:  # graphql-core raises GraphQLSyntaxError
            raise SupergraphError(f"Invalid supergraph SDL: {error}") from error
        subgraphs, enum_to_name = _read_graphs(document, override_urls or {})
        types = _read_types(document, enum_to_name)
        root_types = _read_root_types(document)
        api_schema = build_api_schema(document)
        stripped = _without_inaccessible(document)
        return cls(
            subgraphs=subgraphs,
            types=types,
            api_schema=api_schema,
            root_types=root_types,
            sdl=sdl,
            planning_schema=None if stripped is document else build_api_schema(stripped),
            override_label_names=frozenset(
                label
                for info in types.values()
                for f in info.fields.values()
                for label, _ in f.override_labels.values()
            ),
        )

    def with_override_labels(self, enabled: frozenset[str] | set[str]) -> Supergraph:
        """The view of this supergraph with the progressive ``@override`` labels ``enabled``.

        Fields under an enabled label are resolved by their overriding subgraph, under a
        disabled one by the original subgraph. Unknown labels are ignored; views are cached
        (at most one per subset of ``override_label_names``).
        """
        if self.enabled_override_labels:
            raise ValueError("with_override_labels is called on the parsed supergraph")
        labels = frozenset(enabled) & self.override_label_names
        if not labels:
            return self
        view = self._label_views.get(labels)
        if view is None:
            types = dict(self.types)
            for name, info in self.types.items():
                if any(f.override_labels for f in info.fields.values()):
                    fields = {
                        fname: replace(f, graphs=f.graphs_for(labels), override_labels={})
                        if f.override_labels
                        else f
                        for fname, f in info.fields.items()
                    }
                    types[name] = replace(info, fields=fields)
            view = replace(self, types=types, enabled_override_labels=labels, _label_views={})
            self._label_views[labels] = view
        return view

    @property
    def schema_for_planning(self) -> GraphQLSchema:
        """The schema in which key and required fields are looked up (inaccessible included)."""
        return self.planning_schema or self.api_schema

    def type(self, name: str) -> TypeInfo:
        """The type named ``name`` (raises ``KeyError`` if unknown)."""
        return self.types[name]

    def possible_types(self, name: str) -> list[str]:
        """Concrete object types a (possibly abstract) type can be at runtime, per the API schema."""
        return _possible_types(self.api_schema, name)

    def possible_types_in(self, abstract: str, graph: str) -> list[str]:
        """Concrete types that ``graph`` may return for the abstract type ``abstract``."""
        info = self.types[abstract]
        if info.kind == "union":
            members = info.members.get(graph, frozenset())
            return [t for t in self.possible_types(abstract) if t in members]
        if info.kind == "interface":
            return [
                t
                for t in self.possible_types(abstract)
                if abstract in self.types[t].implements.get(graph, frozenset())
            ]
        return [abstract] if graph in info.graphs else []


def _possible_types(schema: GraphQLSchema, name: str) -> list[str]:
    return _possible_types_cached(id(schema), schema, name)


@cache
def _possible_types_cached(_schema_id: int, schema: GraphQLSchema, name: str) -> list[str]:
    from graphql import GraphQLObjectType, is_abstract_type

    named = schema.get_type(name)
    if named is None:
        return []
    if is_abstract_type(named):
        return [t.name for t in schema.get_possible_types(named)]  # type: ignore[arg-type]
    if isinstance(named, GraphQLObjectType):
        return [named.name]
    return []


def _without_inaccessible(document: DocumentNode) -> DocumentNode:
    """``document`` without ``@inaccessible`` applications (itself when it has none)."""
    found = False

    class _Remover(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: object) -> Any:
            nonlocal found
            if node.name.value == "inaccessible":
                found = True
                return REMOVE
            return None

    stripped = visit(document, _Remover())
    return stripped if found else document


def _args(directive: DirectiveNode) -> dict[str, Any]:
    return {a.name.value: value_from_ast_untyped(a.value) for a in directive.arguments or ()}


def _directives(node: Any, name: str) -> list[dict[str, Any]]:
    return [_args(d) for d in node.directives or () if d.name.value == name]


def parse_field_set(fields: str) -> SelectionSetNode:
    """Parse a ``FieldSet`` string (``"id"``, ``"id owner { id }"``) into a selection set."""
    document = parse("{" + fields + "}", no_location=True)
    return document.definitions[0].selection_set  # type: ignore[attr-defined,no-any-return]


def _read_graphs(
    document: DocumentNode, override_urls: dict[str, str]
) -> tuple[dict[str, Subgraph], dict[str, str]]:
    subgraphs: dict[str, Subgraph] = {}
    enum_to_name: dict[str, str] = {}
    for definition in document.definitions:
        if (
            isinstance(definition, EnumTypeDefinitionNode)
            and definition.name.value == "join__Graph"
        ):
            for value in definition.values or ():
                for graph in _directives(value, "join__graph"):
                    name = str(graph["name"])
                    url = override_urls.get(name, str(graph.get("url") or ""))
                    subgraphs[name] = Subgraph(name=name, url=url)
                    enum_to_name[value.name.value] = name
    if not subgraphs:
        raise SupergraphError("Supergraph SDL has no join__Graph enum: is it a supergraph?")
    unknown = set(override_urls) - set(subgraphs)
    if unknown:
        raise SupergraphError(f"override_subgraph_url names unknown subgraphs: {sorted(unknown)}")
    return subgraphs, enum_to_name


_KINDS: dict[type, str] = {
    ObjectTypeDefinitionNode: "object",
    ObjectTypeExtensionNode: "object",
    InterfaceTypeDefinitionNode: "interface",
    InterfaceTypeExtensionNode: "interface",
    UnionTypeDefinitionNode: "union",
    UnionTypeExtensionNode: "union",
    EnumTypeDefinitionNode: "enum",
    EnumTypeExtensionNode: "enum",
}


def _read_types(document: DocumentNode, enum_to_name: dict[str, str]) -> dict[str, TypeInfo]:
    types: dict[str, TypeInfo] = {}
    for definition in document.definitions:
        if not isinstance(definition, TypeDefinitionNode):
            continue
        name = definition.name.value
        if name.startswith(("join__", "link__")):
            continue
        kind = _KINDS.get(
            type(definition), "input" if "Input" in type(definition).__name__ else "scalar"
        )
        join_types = _directives(definition, "join__type")
        graphs = frozenset(enum_to_name[str(j["graph"])] for j in join_types)
        keys = tuple(
            EntityKey(
                graph=enum_to_name[str(j["graph"])],
                fields=str(j["key"]),
                selection=parse_field_set(str(j["key"])),
                resolvable=bool(j.get("resolvable", True)),
            )
            for j in join_types
            if j.get("key")
        )
        interface_objects = frozenset(
            enum_to_name[str(j["graph"])] for j in join_types if j.get("isInterfaceObject")
        )
        info = TypeInfo(
            name=name,
            kind=kind,
            graphs=graphs,
            keys=keys,
            interface_object_graphs=interface_objects,
        )
        implements: dict[str, set[str]] = {}
        for j in _directives(definition, "join__implements"):
            implements.setdefault(enum_to_name[str(j["graph"])], set()).add(str(j["interface"]))
        info.implements = {g: frozenset(v) for g, v in implements.items()}
        members: dict[str, set[str]] = {}
        for j in _directives(definition, "join__unionMember"):
            members.setdefault(enum_to_name[str(j["graph"])], set()).add(str(j["member"]))
        info.members = {g: frozenset(v) for g, v in members.items()}
        if kind in ("object", "interface"):
            for field_node in getattr(definition, "fields", None) or ():
                info.fields[field_node.name.value] = _read_field(
                    name, field_node, graphs, enum_to_name
                )
        types[name] = info
    return types


def _read_field(
    parent: str,
    node: FieldDefinitionNode,
    type_graphs: frozenset[str],
    enum_to_name: dict[str, str],
) -> FieldInfo:
    joins = _directives(node, "join__field")
    if not joins:
        # No @join__field: every subgraph defining the type resolves the field.
        return FieldInfo(parent=parent, name=node.name.value, graphs=type_graphs)
    if all(j.get("graph") is None for j in joins):
        # A bare @join__field: the field comes from an @interfaceObject of an interface
        # of this type, no subgraph resolves it on the type itself.
        return FieldInfo(parent=parent, name=node.name.value, graphs=frozenset())
    graphs: set[str] = set()
    external: set[str] = set()
    requires: dict[str, SelectionSetNode] = {}
    provides: dict[str, SelectionSetNode] = {}
    labels: dict[str, tuple[str, bool]] = {}
    for j in joins:
        if j.get("graph") is None:
            continue
        graph = enum_to_name[str(j["graph"])]
        label = j.get("overrideLabel")
        if j.get("external"):
            external.add(graph)
        elif label:
            # Progressive @override: the overriding side (``override``) resolves the field
            # when the label is enabled, the original side when it is disabled (the default).
            labels[graph] = (str(label), bool(j.get("override")))
            if not j.get("override"):
                graphs.add(graph)
        elif not j.get("usedOverridden"):
            graphs.add(graph)
        if j.get("requires"):
            requires[graph] = parse_field_set(str(j["requires"]))
        if j.get("provides"):
            provides[graph] = parse_field_set(str(j["provides"]))
    return FieldInfo(
        parent=parent,
        name=node.name.value,
        graphs=frozenset(graphs),
        external_in=frozenset(external),
        requires=requires,
        provides=provides,
        override_labels=labels,
    )


def _read_root_types(document: DocumentNode) -> dict[OperationType, str]:
    roots: dict[OperationType, str] = {}
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode):
            for operation_type in definition.operation_types:
                roots[operation_type.operation] = operation_type.type.name.value
    if not roots:
        names = {d.name.value for d in document.definitions if isinstance(d, TypeDefinitionNode)}
        for kind, default in (
            (OperationType.QUERY, "Query"),
            (OperationType.MUTATION, "Mutation"),
            (OperationType.SUBSCRIPTION, "Subscription"),
        ):
            if default in names:
                roots[kind] = default
    return roots
