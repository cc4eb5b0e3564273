"""Merge validated subgraphs into a supergraph, following Apollo's ``Merger``.

In: parsed `Subgraph`s sorted by name (as Apollo's ``Subgraphs`` keeps them).
Out: a `Supergraph` model carrying link/join specs, ``join__Graph``, every
type with ``@join__type``, ``@join__implements``, ``@join__unionMember``,
``@join__enumValue``, fields with ``@join__field`` where Apollo emits it,
merged descriptions and copied spec directives (``@tag``, ``@inaccessible``,
authorization, cost); or the `CompositionError`s found while merging.

This module is the driver: each step lives in its own module and runs in
Apollo's order (``merge.ts``): set-up (`spec_links`), shallow types and
implements (`merge_types`), unions, schema definition, scalars, inputs,
interfaces, objects (`merge_types`, `merge_fields`, `field_ownership`),
executable directives (`directive_definitions`), enums
(`merge_enums_and_inputs`), applied directives (`applied_directives`),
interface-object fields (`interface_objects`), then `post_merge` checks
and the API-schema checks of `inaccessible`.
"""

from __future__ import annotations

from router.composition.applied_directives import merge_all_applied_directives
from router.composition.directive_definitions import merge_executable_directives
from router.composition.errors import CompositionError
from router.composition.inaccessible import inaccessible_errors
from router.composition.interface_objects import add_missing_interface_object_fields
from router.composition.merge_state import MergeState
from router.composition.merge_types import (
    add_types_shallow,
    merge_implements,
    merge_schema_definition,
    merge_type,
)
from router.composition.post_merge import post_merge_validations
from router.composition.spec_links import prepare_supergraph
from router.composition.subgraph_sdl import Subgraph
from router.composition.supergraph import NamedType, Supergraph


class Merger:
    """Builds the supergraph; call `merge`."""

    def __init__(self, subgraphs: list[Subgraph]) -> None:
        self.state = MergeState(subgraphs)

    def merge(self) -> Supergraph | list[CompositionError]:
        """Run every merge step in Apollo's order."""
        state = self.state
        prepare_supergraph(state)
        if state.errors:
            return state.errors
        add_types_shallow(state)
        if state.errors:
            return state.errors
        kinds: dict[str, list[NamedType]] = {}
        for t in list(state.merged.types.values()):
            if t.name.startswith(("join__", "link__")) or state.is_spec_type(t.name):
                continue
            kinds.setdefault(t.kind, []).append(t)
        for t in kinds.get("object", []) + kinds.get("interface", []):
            merge_implements(state, t)
        for t in kinds.get("union", []):
            merge_type(state, t)
        merge_schema_definition(state)
        for kind in ("scalar", "input", "interface", "object"):
            for t in kinds.get(kind, []):
                merge_type(state, t)
        merge_executable_directives(state)
        for t in kinds.get("enum", []):
            merge_type(state, t)
        if "query" not in state.merged.roots:
            state.errors.append(
                CompositionError(
                    "NO_QUERIES",
                    "No queries found in any subgraph: a supergraph must have a query root type.",
                )
            )
        merge_all_applied_directives(state)
        add_missing_interface_object_fields(state)
        if not state.errors:
            post_merge_validations(state)
        if not state.errors:
            state.errors += inaccessible_errors(state.merged, state.composed.get("inaccessible"))
        return state.errors or state.merged
