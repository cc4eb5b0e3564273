"""Merge enum and input object types.

In: an enum's or input object's definitions across subgraphs, and how the
enum is used (input, output or both positions).
Out: the union of values for output-only enums, the intersection for input
enums (``ENUM_VALUE_MISMATCH`` for both), the intersection of input fields
(``REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH``), ``@join__enumValue`` and
input ``@join__field``; ``EMPTY_MERGED_*`` when nothing is left.
"""

from __future__ import annotations

from router.composition.applied_directives import record_applied
from router.composition.errors import CompositionError
from router.composition.merge_fields import add_join_field, merge_default, merge_type_reference
from router.composition.merge_state import FieldContext, MergeState, Sources, merge_description
from router.composition.naming import enum_literal, subgraph_names
from router.composition.supergraph import (
    AppliedDirective,
    EnumValueDef,
    InputValue,
    NamedType,
)


def merge_enum(state: MergeState, sources: Sources, dest: NamedType) -> None:
    """Merge an enum's values according to its input/output usage."""
    usage = state.enum_usages.get(dest.name, "Output")
    names: list[str] = []
    for source in sources:
        if source is not None:
            names += [v for v in source.values if v not in names]
    for name in names:
        value = dest.values[name] = EnumValueDef(name)
        value_sources = [s.values.get(name) if s is not None else None for s in sources]
        value.description = merge_description(value_sources)
        record_applied(state, value_sources, value)
        for idx, v in enumerate(value_sources):
            if v is not None:
                value.directives.append(
                    AppliedDirective("join__enumValue", {"graph": enum_literal(state.graph[idx])})
                )
        inaccessible = state.composed.get("inaccessible")
        is_inaccessible = inaccessible is not None and any(
            d.name == inaccessible for d in value.directives
        )
        missing = any(s is not None and name not in s.values for s in sources)
        if not is_inaccessible and usage != "Output" and missing:
            if usage == "Both":
                state.errors.append(
                    CompositionError(
                        "ENUM_VALUE_MISMATCH",
                        f'Enum type "{dest.name}" is used as both input type and output type, but value '
                        f'"{name}" is not defined in all the subgraphs defining "{dest.name}"',
                    )
                )
            else:
                del dest.values[name]
    if not dest.values:
        state.errors.append(
            CompositionError(
                "EMPTY_MERGED_ENUM_TYPE",
                f'None of the values of enum type "{dest.name}" are defined consistently in all the subgraphs '
                "defining that type. As only values common to all subgraphs are merged, this would result in "
                "an empty type.",
            )
        )


def merge_input(state: MergeState, sources: Sources, dest: NamedType) -> None:
    """Merge an input object's fields (only those defined in every subgraph)."""
    names: list[str] = []
    for source in sources:
        if source is not None:
            names += [f for f in source.fields if f not in names]
    inaccessible = state.composed.get("inaccessible")
    for name in names:
        field_sources = [s.fields.get(name) if s is not None else None for s in sources]
        target = dest.input_fields[name] = InputValue(name)
        coordinate = f"{dest.name}.{name}"
        target.description = merge_description(field_sources)
        record_applied(state, field_sources, target)
        all_equal = merge_type_reference(state, field_sources, target, coordinate, is_input=True)
        add_join_field(state, field_sources, dest, target, all_equal, FieldContext())
        merge_default(state, field_sources, target, coordinate, "Input field")
        is_inaccessible = inaccessible is not None and any(
            d.name == inaccessible for d in target.directives
        )
        missing = [
            state.names[i] for i, s in enumerate(sources) if s is not None and name not in s.fields
        ]
        if not is_inaccessible and missing:
            required = [
                state.names[i]
                for i, f in enumerate(field_sources)
                if f is not None and f.type.endswith("!") and not f.has_default
            ]
            if required:
                state.errors.append(
                    CompositionError(
                        "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
                        f'Input object field "{coordinate}" is required in some subgraphs but does not appear '
                        f"in all subgraphs: it is required in {subgraph_names(required)} but does not appear "
                        f"in {subgraph_names(missing)}",
                    )
                )
            del dest.input_fields[name]
    if not dest.input_fields:
        state.errors.append(
            CompositionError(
                "EMPTY_MERGED_INPUT_TYPE",
                f'None of the fields of input object type "{dest.name}" are consistently defined in all the '
                "subgraphs defining that type. As only fields common to all subgraphs are merged, this would "
                "result in an empty type.",
            )
        )
