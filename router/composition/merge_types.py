"""Merge named types: kinds, ``@join__type``, implements, unions, objects, interfaces.

In: a `MergeState` after set-up.
Out: every subgraph type added shallowly to the supergraph
(``TYPE_KIND_MISMATCH``, ``INTERFACE_OBJECT_USAGE_ERROR``), the root types,
and each type merged: description, ``@join__type`` per subgraph and key,
``@join__implements``, ``@join__unionMember``, applied directives, fields
(``@override``, field merging, sharing checks) and enum values/input fields.
"""

from __future__ import annotations

from router.composition.applied_directives import record_applied
from router.composition.errors import CompositionError
from router.composition.field_ownership import validate_field_sharing, validate_override
from router.composition.merge_enums_and_inputs import merge_enum, merge_input
from router.composition.merge_fields import merge_field
from router.composition.merge_state import MergeState, Sources, merge_description
from router.composition.naming import KIND_LABELS, enum_literal, join_strings, subgraph_names
from router.composition.supergraph import (
    UNSET,
    AppliedDirective,
    FieldDef,
    NamedType,
)

_ROOT_KINDS = ("query", "mutation", "subscription")
_DEFAULT_ROOTS = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


def add_types_shallow(state: MergeState) -> None:
    """Add every subgraph type (name and kind) to the supergraph; check kinds agree."""
    mismatched: list[str] = []
    with_itf_object: list[str] = []
    for s, meta in zip(state.subgraphs, state.meta, strict=True):
        for t in s.types.values():
            kind = t.kind
            if meta.is_interface_object(t):
                kind = "interface"
                if t.name not in with_itf_object:
                    with_itf_object.append(t.name)
            previous = state.merged.types.get(t.name)
            if previous is None:
                state.merged.types[t.name] = NamedType(kind, t.name)
            elif previous.kind != kind and t.name not in mismatched:
                mismatched.append(t.name)
    for name in mismatched:
        by_kind: dict[str, list[str]] = {}
        for s, meta in zip(state.subgraphs, state.meta, strict=True):
            t = s.types.get(name)
            if t is not None:
                label = (
                    "Interface Object Type (Object Type with @interfaceObject)"
                    if meta.is_interface_object(t)
                    else KIND_LABELS[t.kind]
                )
                by_kind.setdefault(label, []).append(s.name)
        parts = [f"{label} in {subgraph_names(names)}" for label, names in by_kind.items()]
        state.errors.append(
            CompositionError(
                "TYPE_KIND_MISMATCH",
                f'Type "{name}" has mismatched kind: it is defined as '
                + join_strings(parts, " and ", " but "),
            )
        )
    for name in with_itf_object:
        if name in mismatched:
            continue
        if not any(
            s.types.get(name) and s.types[name].kind == "interface" for s in state.subgraphs
        ):
            defining = [s.name for s in state.subgraphs if name in s.types]
            state.errors.append(
                CompositionError(
                    "INTERFACE_OBJECT_USAGE_ERROR",
                    f'Type "{name}" is declared with @interfaceObject in all the subgraphs in which it is '
                    f"defined (it is defined in {subgraph_names(defining)} but should be defined as an "
                    "interface in at least one subgraph)",
                )
            )


def merge_implements(state: MergeState, dest: NamedType) -> None:
    """``interfaces`` and ``@join__implements`` of an object or interface type."""
    implemented: list[str] = []
    for idx, source in enumerate(state.sources(dest.name, dest.kind)):
        if source is None:
            continue
        for itf in source.interfaces:
            if itf not in implemented:
                implemented.append(itf)
            dest.directives.append(
                AppliedDirective(
                    "join__implements", {"graph": enum_literal(state.graph[idx]), "interface": itf}
                )
            )
    dest.interfaces = implemented


def merge_type(state: MergeState, dest: NamedType) -> None:
    """Merge one named type from its definitions in each subgraph."""
    sources = state.sources(dest.name, dest.kind)
    _check_extension_with_no_base(state, sources, dest)
    dest.description = merge_description(sources)
    _add_join_type(state, sources, dest)
    record_applied(state, sources, dest, access_first=dest.kind == "interface")
    if dest.kind == "object":
        _merge_object(state, sources, dest)
    elif dest.kind == "interface":
        _merge_interface(state, sources, dest)
    elif dest.kind == "union":
        _merge_union(state, sources, dest)
    elif dest.kind == "enum":
        merge_enum(state, sources, dest)
    elif dest.kind == "input":
        merge_input(state, sources, dest)


def _check_extension_with_no_base(state: MergeState, sources: Sources, dest: NamedType) -> None:
    if dest.kind == "object" and dest.name in state.merged.roots.values():
        return
    if dest.kind == "object" and dest.name in _DEFAULT_ROOTS.values():
        return
    if any(s is not None and s.has_definition for s in sources):
        return
    for idx, source in enumerate(sources):
        if source is not None and source.has_extension:
            state.errors.append(
                CompositionError(
                    "EXTENSION_WITH_NO_BASE",
                    f'[{state.names[idx]}] Type "{dest.name}" is an extension type, but there is no type '
                    f'definition for "{dest.name}" in any subgraph.',
                )
            )


def _add_join_type(state: MergeState, sources: Sources, dest: NamedType) -> None:
    for idx, source in enumerate(sources):
        if source is None:
            continue
        s, meta = state.subgraphs[idx], state.meta[idx]
        is_itf_object = True if meta.is_interface_object(source) else UNSET
        keys = s.applied(source.directives, "key")
        graph = enum_literal(state.graph[idx])
        if not keys:
            dest.directives.append(
                AppliedDirective("join__type", {"graph": graph, "isInterfaceObject": is_itf_object})
            )
            continue
        for key in keys:
            extension = True if key.on_extension or s.has(source.directives, "extends") else UNSET
            dest.directives.append(
                AppliedDirective(
                    "join__type",
                    {
                        "graph": graph,
                        "key": key.args.get("fields", UNSET),
                        "extension": extension,
                        "resolvable": key.args.get("resolvable", UNSET),
                        "isInterfaceObject": is_itf_object,
                    },
                )
            )


def _merge_object(state: MergeState, sources: Sources, dest: NamedType) -> None:
    added = _add_fields_shallow(state, sources, dest)
    if not added:
        del state.merged.types[dest.name]
        return
    for dest_field, field_sources in added:
        context = validate_override(state, field_sources, dest, dest_field)
        merge_field(state, field_sources, dest, dest_field, context)
        validate_field_sharing(state, field_sources, dest, dest_field, context)


def _merge_interface(state: MergeState, sources: Sources, dest: NamedType) -> None:
    for dest_field, field_sources in _add_fields_shallow(state, sources, dest):
        context = validate_override(state, field_sources, dest, dest_field)
        merge_field(state, field_sources, dest, dest_field, context)


def _add_fields_shallow(
    state: MergeState, sources: Sources, dest: NamedType
) -> list[tuple[FieldDef, Sources]]:
    added: dict[str, tuple[FieldDef, Sources]] = {}
    for idx, source in enumerate(sources):
        if source is None:
            continue
        for f in source.fields.values():
            if f.name not in added:
                dest_field = FieldDef(f.name)
                dest.fields[f.name] = dest_field
                added[f.name] = (dest_field, [None] * len(sources))
            added[f.name][1][idx] = f
    return list(added.values())


def _merge_union(state: MergeState, sources: Sources, dest: NamedType) -> None:
    for source in sources:
        if source is not None:
            dest.members += [m for m in source.members if m not in dest.members]
    for member in dest.members:
        for idx, source in enumerate(sources):
            if source is not None and member in source.members:
                dest.directives.append(
                    AppliedDirective(
                        "join__unionMember",
                        {"graph": enum_literal(state.graph[idx]), "member": member},
                    )
                )


def merge_schema_definition(state: MergeState) -> None:
    """Root types: a root is kept when some subgraph gives it fields."""
    for kind in _ROOT_KINDS:
        root = _DEFAULT_ROOTS[kind]
        for s in state.subgraphs:
            if kind in s.roots and s.types.get(root) and s.types[root].fields:
                state.merged.roots[kind] = root
                break
