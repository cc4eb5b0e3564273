"""Fields contributed through ``@interfaceObject`` types.

In: the merged supergraph and the subgraphs declaring interface objects.
Out: fields that an interface object adds to an interface, copied onto every
implementation that lacks them (with a bare ``@join__field``), and the
interface-object fields that resolve a given implementation field (for the
field-sharing check).
"""

from __future__ import annotations

from router.composition.merge_state import MergeState
from router.composition.subgraph_sdl import Field
from router.composition.supergraph import (
    AppliedDirective,
    FieldDef,
    InputValue,
    NamedType,
)


def fields_abstracted_by_itf_object(
    state: MergeState, parent: NamedType, field_name: str, idx: int
) -> list[Field]:
    """Interface-object fields of subgraph ``idx`` that resolve ``parent.field_name``."""
    s = state.subgraphs[idx]
    if parent.kind != "object" or parent.name in s.types:
        return []
    out: list[Field] = []
    for itf in parent.interfaces:
        itf_type = state.merged.types.get(itf)
        if itf_type is None or field_name not in itf_type.fields:
            continue
        in_subgraph = s.types.get(itf)
        if (
            in_subgraph is not None
            and in_subgraph.kind == "object"
            and field_name in in_subgraph.fields
        ):
            out.append(in_subgraph.fields[field_name])
    return out


def add_missing_interface_object_fields(state: MergeState) -> None:
    """Copy fields added by interface objects onto implementations that lack them."""
    for t in state.merged.types.values():
        if t.kind != "object":
            continue
        for itf_name in t.interfaces:
            itf = state.merged.types.get(itf_name)
            if itf is None:
                continue
            for itf_field in itf.fields.values():
                if itf_field.name in t.fields or not _provided_by_itf_object(
                    state, itf_field.name, itf_name
                ):
                    continue
                implem = FieldDef(itf_field.name, itf_field.type, description=itf_field.description)
                implem.directives = [
                    d for d in itf_field.directives if not d.name.startswith("join__")
                ]
                for arg in itf_field.args.values():
                    implem.args[arg.name] = InputValue(
                        arg.name, arg.type, arg.default, arg.description, list(arg.directives)
                    )
                implem.directives.append(AppliedDirective("join__field", {}))
                t.fields[implem.name] = implem


def _provided_by_itf_object(state: MergeState, field_name: str, itf_name: str) -> bool:
    for s, meta in zip(state.subgraphs, state.meta, strict=True):
        t = s.types.get(itf_name)
        if (
            meta.is_interface_object(t)
            and t is not None
            and field_name in t.fields
            and not meta.is_external(t.fields[field_name])
        ):
            return True
    return False
