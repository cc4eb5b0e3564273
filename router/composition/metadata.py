"""Federation facts about one subgraph: external, shareable, used fields.

In: a parsed `Subgraph`.
Out: `FederationMetadata` answering Apollo's ``isFieldExternal``,
``isFieldFullyExternal``, ``isFieldShareable``, ``isFieldUsed`` and
``isInterfaceObjectType``, and `select_fields`, which walks a ``fields:``
selection (``"id location { lat lng }"``) and reports problems as messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from graphql import GraphQLSyntaxError, parse
from graphql.language import (
    FieldNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

from router.composition.subgraph_sdl import Field, Subgraph, TypeDef

_SCALARS = {"Int", "Float", "String", "Boolean", "ID"}


def base_type(type_ref: str) -> str:
    """``[Foo!]!`` -> ``Foo``."""
    return type_ref.replace("[", "").replace("]", "").replace("!", "")


@dataclass
class Selection:
    """The outcome of walking a field set: the fields it selects and any problems."""

    fields: list[Field] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def select_fields(
    subgraph: Subgraph,
    parent: str,
    fields: str,
    *,
    include_implementations: bool = True,
    on_field: Callable[[Field, bool, bool], None] | None = None,
) -> Selection:
    """Collect the fields selected by ``fields`` from type ``parent``.

    ``on_field(field, has_selection, external_in_parents)`` sees each selected field.
    """
    result = Selection()
    try:
        document = parse("{" + fields + "}", no_location=True)
    except GraphQLSyntaxError as exc:
        result.errors.append(exc.message)
        return result
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    _walk(
        subgraph, parent, operation.selection_set, result, include_implementations, on_field, False
    )
    return result


def _walk(
    subgraph: Subgraph,
    parent: str,
    selection_set: SelectionSetNode,
    result: Selection,
    include_implementations: bool,
    on_field: Callable[[Field, bool, bool], None] | None,
    external_in_parents: bool,
) -> None:
    parent_type = subgraph.types.get(parent)
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            target = selection.type_condition.name.value if selection.type_condition else parent
            _walk(
                subgraph,
                target,
                selection.selection_set,
                result,
                include_implementations,
                on_field,
                external_in_parents,
            )
            continue
        if not isinstance(selection, FieldNode):
            continue
        name = selection.name.value
        if name == "__typename":
            continue
        definition = parent_type.fields.get(name) if parent_type else None
        if definition is None:
            result.errors.append(f'Cannot query field "{name}" on type "{parent}".')
            continue
        result.fields.append(definition)
        if include_implementations and parent_type and parent_type.kind == "interface":
            for impl in subgraph.implementations(parent):
                impl_field = impl.fields.get(name)
                if impl_field:
                    result.fields.append(impl_field)
        if on_field:
            on_field(definition, selection.selection_set is not None, external_in_parents)
        target = base_type(definition.type)
        target_type = subgraph.types.get(target)
        is_composite = target_type is not None and target_type.kind in (
            "object",
            "interface",
            "union",
        )
        if selection.selection_set is None:
            if is_composite:
                result.errors.append(
                    f'Invalid empty selection set for field "{definition.coordinate}" of non-leaf type {definition.type}'
                )
        elif not is_composite:
            result.errors.append(f'Cannot query field "{name}" on type "{parent}".')
        else:
            _walk(
                subgraph,
                target,
                selection.selection_set,
                result,
                include_implementations,
                on_field,
                external_in_parents or FederationMetadata.of(subgraph).is_external(definition),
            )


class FederationMetadata:
    """Precomputed federation predicates for a subgraph (cached per subgraph)."""

    _cache: dict[int, FederationMetadata] = {}

    @classmethod
    def of(cls, subgraph: Subgraph) -> FederationMetadata:
        """The (cached) metadata of ``subgraph``."""
        key = id(subgraph)
        meta = cls._cache.get(key)
        if meta is None or meta.subgraph is not subgraph:
            meta = cls._cache[key] = cls(subgraph)
        return meta

    def __init__(self, subgraph: Subgraph) -> None:
        self.subgraph = subgraph
        self._fake_external: set[str] = set()
        self._provided: set[str] = set()
        self._external_on_type: set[str] = set()
        self._shareable: set[str] | None = None
        self._used: set[str] | None = None
        s = subgraph
        for t in s.types.values():
            for key in s.applied(t.directives, "key"):
                if key.on_extension or s.has(t.directives, "extends"):
                    for f in _targets(
                        s, t.name, key.args.get("fields"), include_implementations=False
                    ):
                        if s.has(f.directives, "external"):
                            self._fake_external.add(f.coordinate)
            if t.kind == "object" and not s.is_fed1 and s.has(t.directives, "external"):
                self._external_on_type.update(f.coordinate for f in t.fields.values())
        for t in s.types.values():
            for f in t.fields.values():
                for provides in s.applied(f.directives, "provides"):
                    target = base_type(f.type)
                    if target in s.types and s.types[target].kind in (
                        "object",
                        "interface",
                        "union",
                    ):
                        self._provided.update(
                            x.coordinate for x in _targets(s, target, provides.args.get("fields"))
                        )

    def is_external(self, f: Field) -> bool:
        """``@external`` on the field or its type, unless a key field of an extension."""
        s = self.subgraph
        marked = s.has(f.directives, "external") or f.coordinate in self._external_on_type
        return marked and f.coordinate not in self._fake_external

    def is_fake_external(self, f: Field) -> bool:
        """An ``@external`` key field of an ``extend type``: not really external."""
        return f.coordinate in self._fake_external

    def is_fully_external(self, f: Field) -> bool:
        """External and not provided by any ``@provides``."""
        return self.is_external(f) and f.coordinate not in self._provided

    def is_interface_object(self, t: TypeDef | None) -> bool:
        """An object type marked ``@interfaceObject``."""
        return (
            t is not None
            and t.kind == "object"
            and self.subgraph.has(t.directives, "interfaceObject")
        )

    def is_shareable(self, f: Field) -> bool:
        """Apollo's ``computeShareables``: @shareable, key fields, provided externals."""
        if self._shareable is None:
            self._shareable = self._compute_shareables()
        return f.coordinate in self._shareable

    def is_used(self, f: Field) -> bool:
        """Used by a key, requires, provides or to satisfy an interface."""
        if self._used is None:
            self._used = self._compute_used()
        return f.coordinate in self._used

    def _compute_shareables(self) -> set[str]:
        s = self.subgraph
        shareable: set[str] = set()
        for t in s.types.values():
            if t.kind not in ("object", "interface"):
                continue
            for key in s.applied(t.directives, "key"):
                shareable.update(f.coordinate for f in _targets(s, t.name, key.args.get("fields")))
            if t.kind != "object":
                continue
            on_type = s.applied(t.directives, "shareable")
            for f in t.fields.values():
                if (
                    s.is_fed1
                    or s.has(f.directives, "shareable")
                    or any(d.on_extension == f.on_extension for d in on_type)
                ):
                    shareable.add(f.coordinate)
                for provides in s.applied(f.directives, "provides"):
                    target = base_type(f.type)
                    for x in _targets(s, target, provides.args.get("fields")):
                        if self.is_external(x):
                            shareable.add(x.coordinate)
        return shareable

    def _compute_used(self) -> set[str]:
        s = self.subgraph
        used: set[str] = set()
        for t in s.types.values():
            for key in s.applied(t.directives, "key"):
                used.update(f.coordinate for f in _targets(s, t.name, key.args.get("fields")))
            for f in t.fields.values():
                for requires in s.applied(f.directives, "requires"):
                    used.update(
                        x.coordinate for x in _targets(s, t.name, requires.args.get("fields"))
                    )
                for provides in s.applied(f.directives, "provides"):
                    used.update(
                        x.coordinate
                        for x in _targets(s, base_type(f.type), provides.args.get("fields"))
                    )
            if t.kind == "interface":
                for impl in s.implementations(t.name):
                    used.update(impl.fields[n].coordinate for n in t.fields if n in impl.fields)
        return used


def _targets(
    subgraph: Subgraph, parent: str, fields: object, *, include_implementations: bool = True
) -> list[Field]:
    if not isinstance(fields, str):
        return []
    return select_fields(
        subgraph, parent, fields, include_implementations=include_implementations
    ).fields
