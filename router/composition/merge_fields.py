"""Merge one field (or argument, or input field) across subgraphs.

In: the definitions of a field in each subgraph (`Sources`) and its
`FieldContext` (which subgraphs were overridden).
Out: the merged field: description, applied directives, arguments, the most
general output type (or most specific input type), ``@join__field`` where
Apollo emits it; ``EXTERNAL_MISSING_ON_BASE``, ``FIELD_TYPE_MISMATCH``,
``ARGUMENT_TYPE_MISMATCH``, ``EXTERNAL_TYPE_MISMATCH``, default-value and
required-argument errors.
"""

from __future__ import annotations

from typing import Any

from graphql.language import ListTypeNode, NamedTypeNode, NonNullTypeNode, TypeNode, parse_type

from router.composition.applied_directives import record_applied
from router.composition.errors import CompositionError
from router.composition.merge_state import FieldContext, MergeState, Sources, merge_description
from router.composition.metadata import base_type
from router.composition.naming import enum_literal, join_strings, subgraph_names
from router.composition.subgraph_sdl import Directive
from router.composition.supergraph import (
    UNSET,
    AppliedDirective,
    FieldDef,
    InputValue,
    NamedType,
    Supergraph,
)
from router.composition.values import values_equal


def merge_field(
    state: MergeState, sources: Sources, parent: NamedType, dest: FieldDef, context: FieldContext
) -> None:
    """Merge a field of an object or interface type (``Type.field`` in ``coordinate``)."""
    coordinate = f"{parent.name}.{dest.name}"
    defined = [(i, f) for i, f in enumerate(sources) if f is not None]
    if all(state.meta[i].is_external(f) for i, f in defined):
        state.errors.append(
            CompositionError(
                "EXTERNAL_MISSING_ON_BASE",
                f'Field "{coordinate}" is marked @external on all the subgraphs in which it is listed '
                f"({subgraph_names([state.names[i] for i, _ in defined])}).",
            )
        )
        return
    without_external = [
        None if f is None or state.meta[i].is_external(f) else f for i, f in enumerate(sources)
    ]
    dest.description = merge_description(without_external)
    record_applied(state, without_external, dest, access_first=True, coordinate=coordinate)
    _merge_arguments(state, without_external, dest, coordinate)
    all_types_equal = merge_type_reference(
        state, without_external, dest, coordinate, is_input=False
    )
    _validate_external_types(state, sources, dest, coordinate, all_types_equal)
    add_join_field(state, sources, parent, dest, all_types_equal, context)


def _merge_arguments(state: MergeState, sources: Sources, dest: FieldDef, coordinate: str) -> None:
    names: list[str] = []
    for f in sources:
        if f is not None:
            names += [a for a in f.args if a not in names]
    for arg_name in names:
        arg_sources = [f.args.get(arg_name) if f is not None else None for f in sources]
        missing = [
            state.names[i]
            for i, f in enumerate(sources)
            if f is not None and arg_name not in f.args
        ]
        if missing:
            required = [
                state.names[i]
                for i, a in enumerate(arg_sources)
                if a is not None and a.type.endswith("!") and not a.has_default
            ]
            if required:
                state.errors.append(
                    CompositionError(
                        "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
                        f'Argument "{coordinate}({arg_name}:)" is required in some subgraphs but does not '
                        f"appear in all subgraphs: it is required in {subgraph_names(required)} but does not "
                        f"appear in {subgraph_names(missing)}",
                    )
                )
            continue
        arg = dest.args[arg_name] = InputValue(arg_name)
        arg.description = merge_description(arg_sources)
        record_applied(state, arg_sources, arg)
        merge_type_reference(
            state, arg_sources, arg, f"{coordinate}({arg_name}:)", is_input=True, argument=True
        )
        merge_default(state, arg_sources, arg, f"{coordinate}({arg_name}:)", "Argument")


def merge_default(
    state: MergeState, sources: Sources, dest: InputValue, coordinate: str, kind: str
) -> None:
    """Merge a default value; ``*_DEFAULT_MISMATCH`` when subgraphs disagree."""
    value: Any = UNSET
    seen = inconsistent = incompatible = False
    for source in sources:
        if source is None:
            continue
        default = source.default if source.has_default else UNSET
        if value is UNSET:
            value = default
            if seen and default is not UNSET:
                inconsistent = True
        elif default is UNSET or not values_equal(value, default):
            inconsistent = True
            if default is not UNSET:
                incompatible = True
        seen = True
    if not inconsistent or incompatible:
        dest.default = value
    if incompatible:
        code = "ARGUMENT_DEFAULT_MISMATCH" if kind == "Argument" else "INPUT_FIELD_DEFAULT_MISMATCH"
        state.errors.append(
            CompositionError(
                code, f'{kind} "{coordinate}" has incompatible default values across subgraphs'
            )
        )


def merge_type_reference(
    state: MergeState,
    sources: Sources,
    dest: Any,
    coordinate: str,
    *,
    is_input: bool,
    argument: bool = False,
) -> bool:
    """Set ``dest.type`` to the merged type; return whether all subgraphs agree exactly."""
    dest_type: str | None = None
    has_subtypes = has_incompatible = False
    for source in sources:
        if source is None:
            continue
        if dest_type is None or dest_type == source.type:
            dest_type = source.type
        elif is_strict_subtype(state, dest_type, source.type):
            has_subtypes = True
            if is_input:
                dest_type = source.type
        elif is_strict_subtype(state, source.type, dest_type):
            has_subtypes = True
            if not is_input:
                dest_type = source.type
        else:
            has_incompatible = True
    if dest_type is None:
        dest_type = next(s.type for s in sources if s is not None) if any(sources) else ""
    dest.type = dest_type
    base = base_type(dest_type)
    if base in state.merged.types and state.merged.types[base].kind == "enum":
        position = "Input" if is_input else "Output"
        existing = state.enum_usages.get(base)
        state.enum_usages[base] = "Both" if existing and existing != position else position
    if has_incompatible:
        groups: dict[str, list[str]] = {}
        for idx, source in enumerate(sources):
            if source is not None:
                groups.setdefault(source.type, []).append(state.names[idx])
        parts = [
            f'type "{t}" in {subgraph_names(names)}'
            for t, names in groups.items()
            if t == dest_type
        ]
        parts += [
            f'type "{t}" in {subgraph_names(names)}'
            for t, names in groups.items()
            if t != dest_type
        ]
        element = "argument" if argument else "field"
        code = "ARGUMENT_TYPE_MISMATCH" if argument else "FIELD_TYPE_MISMATCH"
        state.errors.append(
            CompositionError(
                code,
                f'Type of {element} "{coordinate}" is incompatible across subgraphs: it has '
                + join_strings(parts, " and ", " but "),
            )
        )
        return False
    return not has_subtypes


def is_strict_subtype(state: MergeState, type_ref: str, maybe_sub: str) -> bool:
    """Whether ``maybe_sub`` is a strict subtype of ``type_ref`` in the supergraph."""
    return _strict_subtype(_parse_type(type_ref), _parse_type(maybe_sub), state.merged)


def _validate_external_types(
    state: MergeState, sources: Sources, dest: FieldDef, coordinate: str, all_equal: bool
) -> None:
    bad = False
    for idx, source in enumerate(sources):
        if source is None or not state.meta[idx].is_external(source):
            continue
        if not (
            dest.type == source.type
            or (not all_equal and is_strict_subtype(state, dest.type, source.type))
        ):
            bad = True
    if bad:
        groups: dict[str, list[str]] = {}
        for idx, source in enumerate(sources):
            if source is not None:
                groups.setdefault(source.type, []).append(state.names[idx])
        parts = [f'type "{t}" in {subgraph_names(n)}' for t, n in groups.items()]
        state.errors.append(
            CompositionError(
                "EXTERNAL_TYPE_MISMATCH",
                f'Type of field "{coordinate}" is incompatible across subgraphs (where marked @external): '
                "it has " + join_strings(parts, " and ", " but "),
            )
        )


def _needs_join_field(
    state: MergeState, sources: Sources, parent: str, all_equal: bool, context: FieldContext
) -> bool:
    if not all_equal or context.used_overridden or context.labels:
        return True
    for idx, source in enumerate(sources):
        s = state.subgraphs[idx]
        if source is not None and idx not in context.unused_overridden:
            if (
                state.meta[idx].is_external(source)
                or s.has(source.directives, "provides")
                or s.has(source.directives, "requires")
            ):
                return True
        elif parent in s.types:
            return True
    return False


def add_join_field(
    state: MergeState,
    sources: Sources,
    parent: NamedType,
    dest: Any,
    all_equal: bool,
    context: FieldContext,
) -> None:
    """Add one ``@join__field`` per defining subgraph, when Apollo needs them."""
    if not _needs_join_field(state, sources, parent.name, all_equal, context):
        return
    for idx, source in enumerate(sources):
        label = context.labels.get(idx)
        if source is None or (idx in context.unused_overridden and not label):
            continue
        s = state.subgraphs[idx]
        override = s.applied(source.directives, "override")
        dest.directives.append(
            AppliedDirective(
                "join__field",
                {
                    "graph": enum_literal(state.graph[idx]),
                    "requires": _fields_arg(s.applied(source.directives, "requires")),
                    "provides": _fields_arg(s.applied(source.directives, "provides")),
                    "override": override[-1].args.get("from", UNSET) if override else UNSET,
                    "type": UNSET if all_equal else source.type,
                    "external": True if state.meta[idx].is_external(source) else UNSET,
                    "usedOverridden": True if idx in context.used_overridden else UNSET,
                    "overrideLabel": label if label is not None else UNSET,
                },
            )
        )


def _fields_arg(directives: list[Directive]) -> Any:
    return directives[0].args.get("fields", UNSET) if directives else UNSET


def _parse_type(type_ref: str) -> Any:
    def convert(node: TypeNode) -> Any:
        if isinstance(node, NonNullTypeNode):
            return ("nn", convert(node.type))
        if isinstance(node, ListTypeNode):
            return ("list", convert(node.type))
        assert isinstance(node, NamedTypeNode)
        return node.name.value

    return convert(parse_type(type_ref))


def _strict_subtype(t: Any, sub: Any, merged: Supergraph) -> bool:
    def is_subtype(a: Any, b: Any) -> bool:
        return a == b or _strict_subtype(a, b, merged)

    if isinstance(sub, tuple) and sub[0] == "list":
        return isinstance(t, tuple) and t[0] == "list" and is_subtype(t[1], sub[1])
    if isinstance(sub, tuple) and sub[0] == "nn":
        if isinstance(t, tuple) and t[0] == "nn":
            return is_subtype(t[1], sub[1])
        return is_subtype(t, sub[1])
    if isinstance(t, str) and isinstance(sub, str):
        target = merged.types.get(t)
        candidate = merged.types.get(sub)
        if target is None or candidate is None:
            return False
        if target.kind == "union":
            return sub in target.members
        if target.kind == "interface" and candidate.kind in ("object", "interface"):
            return t in candidate.interfaces
    return False
