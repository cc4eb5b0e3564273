"""Which subgraphs may resolve a field: ``@override`` and ``@shareable`` rules.

In: a field's definitions across subgraphs.
Out: a `FieldContext` recording overridden subgraphs and progressive-override
labels (``OVERRIDE_*`` errors otherwise), and ``INVALID_FIELD_SHARING`` when a
non-shareable field is resolved by several subgraphs (including through an
``@interfaceObject``).
"""

from __future__ import annotations

import re

from router.composition.errors import CompositionError
from router.composition.interface_objects import fields_abstracted_by_itf_object
from router.composition.merge_state import FieldContext, MergeState, Sources
from router.composition.naming import join_strings
from router.composition.subgraph_sdl import Field
from router.composition.supergraph import (
    FieldDef,
    NamedType,
)

_LABEL = re.compile(r"^[a-zA-Z][a-zA-Z0-9_\-:./]*$")
_PERCENT = re.compile(r"^percent\((\d{1,2}(\.\d{1,8})?|100)\)$")


def validate_override(
    state: MergeState, sources: Sources, parent: NamedType, dest: FieldDef
) -> FieldContext:
    """Check ``@override`` on a field; return which subgraphs it overrides and with which label."""
    context = FieldContext()
    coordinate = f"{parent.name}.{dest.name}"
    if coordinate not in state.override_fields:
        return context
    with_override = {
        idx: state.subgraphs[idx].applied(f.directives, "override")[0]
        for idx, f in enumerate(sources)
        if f is not None and state.subgraphs[idx].has(f.directives, "override")
    }
    for idx, override in with_override.items():
        name = state.names[idx]
        source_type = state.subgraphs[idx].types[parent.name]
        if source_type.kind == "interface":
            state.errors.append(
                CompositionError(
                    "OVERRIDE_ON_INTERFACE",
                    f'@override cannot be used on field "{coordinate}" on subgraph "{name}": @override is not '
                    "supported on interface type fields.",
                )
            )
            continue
        from_name = override.args.get("from")
        if from_name not in state.names:
            continue
        if from_name == name:
            state.errors.append(
                CompositionError(
                    "OVERRIDE_FROM_SELF_ERROR",
                    f'Source and destination subgraphs "{from_name}" are the same for overridden field "{coordinate}"',
                )
            )
            continue
        from_idx = state.names.index(from_name)
        if from_idx in with_override:
            state.errors.append(
                CompositionError(
                    "OVERRIDE_SOURCE_HAS_OVERRIDE",
                    f'Field "{coordinate}" on subgraph "{name}" is also marked with directive @override in '
                    f'subgraph "{from_name}". Only one @override directive is allowed per field.',
                )
            )
            continue
        from_field = sources[from_idx]
        if from_field is None:
            continue
        from_sub = state.subgraphs[from_idx]
        conflict = next(
            (d for d in ("requires", "provides") if from_sub.has(from_field.directives, d)),
            None,
        )
        if conflict:
            state.errors.append(
                CompositionError(
                    "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
                    f'@override cannot be used on field "{coordinate}" on subgraph "{name}" since '
                    f'"{coordinate}" on "{from_name}" is marked with directive "@{from_sub.fed_names[conflict]}"',
                )
            )
            continue
        if state.meta[from_idx].is_external(from_field):
            continue
        if state.meta[from_idx].is_used(from_field):
            context.used_overridden.add(from_idx)
        else:
            context.unused_overridden.add(from_idx)
        label = override.args.get("label")
        if label is not None:
            match = _PERCENT.match(label)
            if _LABEL.match(label) or (match and 0 <= float(match.group(1)) <= 100):
                context.labels[idx] = label
                context.labels[from_idx] = label
            else:
                state.errors.append(
                    CompositionError(
                        "OVERRIDE_LABEL_INVALID",
                        f'Invalid @override label "{label}" on field "{coordinate}" on subgraph "{name}": '
                        "labels must start with a letter and after that may contain alphanumerics, "
                        "underscores, minuses, colons, periods, or slashes. Alternatively, labels may be of "
                        'the form "percent(x)" where x is a float between 0-100 inclusive.',
                    )
                )
    return context


def validate_field_sharing(
    state: MergeState, sources: Sources, parent: NamedType, dest: FieldDef, context: FieldContext
) -> None:
    """``INVALID_FIELD_SHARING`` when a non-shareable field is resolved by several subgraphs."""
    shareable: list[str] = []
    non_shareable: list[str] = []
    resolving: list[str] = []
    for idx, source in enumerate(sources):
        candidates: list[tuple[str, Field]] = []
        if source is None:
            for itf_field in fields_abstracted_by_itf_object(state, parent, dest.name, idx):
                candidates.append(
                    (
                        f'"{state.names[idx]}" (through @interfaceObject field "{itf_field.coordinate}")',
                        itf_field,
                    )
                )
        elif idx in context.used_overridden or idx in context.unused_overridden:
            continue
        else:
            candidates.append((f'"{state.names[idx]}"', source))
        for label, f in candidates:
            if state.meta[idx].is_fully_external(f):
                continue
            resolving.append(label)
            (shareable if state.meta[idx].is_shareable(f) else non_shareable).append(label)
    if non_shareable and (shareable or len(non_shareable) > 1):

        def listing(items: list[str]) -> str:
            return items[0] if len(items) == 1 else join_strings(items, ", ")

        resolved = ("subgraph " if len(resolving) == 1 else "subgraphs ") + listing(resolving)
        where = (
            ("subgraph " if len(non_shareable) == 1 else "subgraphs ") + listing(non_shareable)
            if shareable
            else "all of them"
        )
        state.errors.append(
            CompositionError(
                "INVALID_FIELD_SHARING",
                f'Non-shareable field "{parent.name}.{dest.name}" is resolved from multiple subgraphs: it is '
                f"resolved from {resolved} and defined as non-shareable in {where}",
            )
        )
