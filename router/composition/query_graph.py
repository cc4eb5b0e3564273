"""The subgraphs seen as one federated query graph (Apollo's ``federateSubgraphs``).

In: the parsed subgraphs and the merged supergraph.
Out: `FederatedGraph`, which answers, for a `Position` (a type in one
subgraph, possibly a ``@provides`` copy of it), which fields can be collected
there (with their ``@requires`` conditions), which downcasts exist, and which
``@key`` jumps lead to other subgraphs (with their key conditions). Vertices
are not materialised: edges are computed on demand from the subgraph models,
following Apollo's rules (external fields have no edge unless provided,
overridden fields have none, interface fields need every local implementation
to provide them, ``@interfaceObject`` types are reached by keys from their
implementations, and ``__typename`` is not collected on them).
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import GraphQLSyntaxError, parse
from graphql.language import (
    FieldNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from router.composition.metadata import FederationMetadata, base_type
from router.composition.subgraph_sdl import Field, Subgraph, TypeDef
from router.composition.supergraph import Supergraph

BUILTIN_SCALARS = {"Int", "Float", "String", "Boolean", "ID"}


@dataclass(frozen=True, slots=True)
class Selection:
    """One element of a field set: a field (``name``) or an inline fragment (``on``)."""

    name: str | None
    on: str | None = None
    children: tuple[Selection, ...] = ()

    def __str__(self) -> str:
        head = self.name if self.name is not None else f"... on {self.on}"
        return head + (" { " + print_selections(self.children) + " }" if self.children else "")


def print_selections(selections: tuple[Selection, ...]) -> str:
    """A field set as Apollo prints conditions: ``id location { lat }``."""
    return " ".join(str(s) for s in selections)


def parse_field_set(fields: object) -> tuple[Selection, ...] | None:
    """Parse a ``fields:`` argument; None when it is not a valid selection."""
    if not isinstance(fields, str):
        return None
    try:
        document = parse("{" + fields + "}", no_location=True)
    except GraphQLSyntaxError:
        return None
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    return _convert(operation.selection_set)


def _convert(selection_set: SelectionSetNode | None) -> tuple[Selection, ...]:
    if selection_set is None:
        return ()
    out: list[Selection] = []
    for node in selection_set.selections:
        if isinstance(node, FieldNode):
            out.append(Selection(node.name.value, None, _convert(node.selection_set)))
        elif isinstance(node, InlineFragmentNode):
            on = node.type_condition.name.value if node.type_condition else None
            out.append(Selection(None, on, _convert(node.selection_set)))
    return tuple(out)


Provision = tuple[Selection, ...]  # what a @provides copy of a vertex adds


@dataclass(frozen=True, slots=True)
class Position:
    """Where a subgraph path ends: type ``type`` in subgraph ``sub``.

    ``provided`` is set on ``@provides`` copies; ``via_key`` records that the
    last edge was a key jump; ``top_level`` that the path just entered a root.
    """

    sub: int
    type: str
    provided: Provision | None = None
    via_key: bool = False
    top_level: bool = False

    @property
    def vertex(self) -> tuple[int, str]:
        """The identity Apollo's validation memoizes on (subgraph and type)."""
        return (self.sub, self.type)


@dataclass(frozen=True, slots=True)
class FieldEdge:
    """A field that can be collected at a position."""

    field: Field
    tail: Position
    requires: tuple[Selection, ...] | None


@dataclass(frozen=True, slots=True)
class KeyEdge:
    """A key (or root type) jump from one subgraph to another."""

    sub: int
    type: str
    conditions: tuple[Selection, ...] | None
    fields: str  # the key's field set, printed

    @property
    def condition_key(self) -> tuple[str, str]:
        """Identifies equal conditions (Apollo compares selection sets)."""
        return (self.type, self.fields)


class FederatedGraph:
    """Edges of the federated query graph, computed from the subgraph models."""

    def __init__(self, subgraphs: list[Subgraph], merged: Supergraph) -> None:
        self.subgraphs = subgraphs
        self.names = [s.name for s in subgraphs]
        self.meta = [FederationMetadata.of(s) for s in subgraphs]
        self.merged = merged
        self.overridden = self._overridden_fields()
        self._keys_by_type: dict[str, list[tuple[int, str, tuple[Selection, ...] | None]]] = {}
        self._itf_object_keys: dict[str, list[tuple[int, str, str]]] = {}
        for idx, s in enumerate(subgraphs):
            for t in s.types.values():
                if t.kind not in ("object", "interface"):
                    continue
                for key in s.applied(t.directives, "key"):
                    if key.args.get("resolvable", True) is False:
                        continue
                    fields = key.args.get("fields")
                    selection = parse_field_set(fields)
                    printed = print_selections(selection) if selection else str(fields)
                    self._keys_by_type.setdefault(t.name, []).append((idx, printed, selection))
                    if self.meta[idx].is_interface_object(t):
                        for impl in self.supergraph_runtime_types(t.name):
                            self._itf_object_keys.setdefault(impl, []).append(
                                (idx, t.name, printed)
                            )

    # -- supergraph facts -------------------------------------------------------------

    def supergraph_runtime_types(self, name: str) -> list[str]:
        """Object types a supergraph type may resolve to."""
        t = self.merged.types.get(name)
        if t is None:
            return []
        if t.kind == "object":
            return [name]
        if t.kind == "union":
            return list(t.members)
        if t.kind == "interface":
            return [
                o.name
                for o in self.merged.types.values()
                if o.kind == "object" and name in o.interfaces
            ]
        return []

    # -- subgraph facts -----------------------------------------------------------------

    def type_in(self, sub: int, name: str) -> TypeDef | None:
        """Type ``name`` in subgraph ``sub``."""
        return self.subgraphs[sub].types.get(name)

    def is_interface_object(self, sub: int, name: str) -> bool:
        """Whether ``name`` is an ``@interfaceObject`` in subgraph ``sub``."""
        return self.meta[sub].is_interface_object(self.type_in(sub, name))

    def runtime_types_in(self, sub: int, name: str) -> list[str]:
        """Object types ``name`` may resolve to within subgraph ``sub``."""
        t = self.type_in(sub, name)
        if t is None:
            return []
        if t.kind == "object":
            return [name]
        if t.kind == "union":
            return list(t.members)
        if t.kind == "interface":
            return [i.name for i in self.subgraphs[sub].implementations(name)]
        return []

    def is_leaf(self, sub: int | None, name: str) -> bool:
        """Scalars and enums (in a subgraph, or in the supergraph when ``sub`` is None)."""
        if name in BUILTIN_SCALARS:
            return True
        t = self.merged.types.get(name) if sub is None else self.type_in(sub, name)
        return t is not None and t.kind in ("scalar", "enum")

    def _overridden_fields(self) -> dict[tuple[int, str], bool]:
        """``(subgraph, Type.field)`` overridden away (without label) -> whether it stays "used"."""
        out: dict[tuple[int, str], bool] = {}
        for s in self.subgraphs:
            for t in s.types.values():
                for f in t.fields.values():
                    for override in s.applied(f.directives, "override"):
                        source = override.args.get("from")
                        if override.args.get("label") is not None or source not in self.names:
                            continue
                        idx = self.names.index(source)
                        from_type = self.subgraphs[idx].types.get(t.name)
                        from_field = from_type.fields.get(f.name) if from_type else None
                        if from_field is None or self.meta[idx].is_external(from_field):
                            continue
                        out[(idx, f.coordinate)] = self.meta[idx].is_used(from_field)
        return out

    def field_exists(self, sub: int, type_name: str, field_name: str) -> bool:
        """Whether the (extracted) subgraph still defines ``Type.field``."""
        t = self.type_in(sub, type_name)
        if t is None or t.kind not in ("object", "interface") or field_name not in t.fields:
            return False
        return self.overridden.get((sub, f"{type_name}.{field_name}"), True)

    def has_locally_satisfiable_key(self, sub: int, type_name: str) -> bool:
        """Apollo's ``getLocallySatisfiableKey``: a key selecting no external field."""
        s = self.subgraphs[sub]
        t = self.type_in(sub, type_name)
        if t is None:
            return False
        for key in s.applied(t.directives, "key"):
            selection = parse_field_set(key.args.get("fields"))
            if selection is not None and not self._selects_external(sub, type_name, selection):
                return True
        return False

    def _selects_external(self, sub: int, type_name: str, selection: tuple[Selection, ...]) -> bool:
        for sel in selection:
            if sel.name is None:
                if self._selects_external(sub, sel.on or type_name, sel.children):
                    return True
                continue
            t = self.type_in(sub, type_name)
            f = t.fields.get(sel.name) if t else None
            if f is None:
                continue
            if self.meta[sub].is_external(f):
                return True
            if sel.children and self._selects_external(sub, base_type(f.type), sel.children):
                return True
        return False

    # -- edges ------------------------------------------------------------------------

    def field_edge(self, at: Position, name: str) -> FieldEdge | None:
        """The edge collecting field ``name`` at ``at``, if the subgraph can resolve it there."""
        s, meta = self.subgraphs[at.sub], self.meta[at.sub]
        t = s.types.get(at.type)
        if t is None or t.kind not in ("object", "interface"):
            return None
        f = t.fields.get(name)
        if f is None:
            return None
        provided = _provided(at.provided, name)
        if meta.is_external(f):
            if provided is None:
                return None
            return FieldEdge(f, Position(at.sub, base_type(f.type), provided or None), None)
        if (at.sub, f.coordinate) in self.overridden:
            return None
        if t.kind == "interface" and not self._interface_field_provided(at.sub, t, name):
            return None
        requires = s.applied(f.directives, "requires")
        conditions = parse_field_set(requires[0].args.get("fields")) if requires else None
        provides = s.applied(f.directives, "provides")
        child = parse_field_set(provides[0].args.get("fields")) if provides else provided
        return FieldEdge(f, Position(at.sub, base_type(f.type), child or None), conditions)

    def _interface_field_provided(self, sub: int, itf: TypeDef, name: str) -> bool:
        s, meta = self.subgraphs[sub], self.meta[sub]
        for runtime in self.supergraph_runtime_types(itf.name):
            local = s.types.get(runtime)
            if local is None:
                continue
            f = local.fields.get(name)
            if f is None or meta.is_external(f) or s.has(f.directives, "requires"):
                return False
        return True

    def downcast(self, at: Position, target: str) -> Position | None:
        """The position after ``... on target`` within the same subgraph, if it exists."""
        if target == at.type:
            return at
        if target not in self.runtime_types_in(at.sub, at.type):
            return None
        for sel in at.provided or ():
            if sel.name is None and sel.on == target:
                return Position(at.sub, target, sel.children or None)
        return Position(at.sub, target)

    def key_edges(self, at: Position) -> list[KeyEdge]:
        """Key jumps (and root type jumps) out of ``at``, in Apollo's edge order."""
        if self.type_in(at.sub, at.type) is None:
            return []
        edges: list[KeyEdge] = []
        root_kind = next(
            (k for k, name in self.subgraphs[at.sub].roots.items() if name == at.type), None
        )
        if root_kind is not None:
            for idx, s in enumerate(self.subgraphs):
                if root_kind in s.roots:
                    edges.append(KeyEdge(idx, s.roots[root_kind], None, ""))
        for idx, printed, selection in self._keys_by_type.get(at.type, []):
            edges.append(KeyEdge(idx, at.type, selection, printed))
        for idx, itf, printed in self._itf_object_keys.get(at.type, []):
            selection = parse_field_set(printed)
            local = self.type_in(at.sub, at.type)
            if selection and local and all(sel.name in local.fields for sel in selection):
                edges.append(KeyEdge(idx, itf, selection, printed))
        return edges


def _provided(provision: Provision | None, name: str) -> Provision | None:
    """The sub-provision for field ``name`` (empty tuple for a leaf), or None if not provided."""
    for sel in provision or ():
        if sel.name == name:
            return sel.children
    return None
