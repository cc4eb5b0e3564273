"""Executable directive definitions (``@myDirective on FIELD``) in the supergraph.

In: custom directive definitions of every subgraph.
Out: definitions kept only when every subgraph defines the directive, with the
executable locations they all share, arguments common to all, merged types,
defaults and descriptions.
"""

from __future__ import annotations

from router.composition.merge_fields import merge_default, merge_type_reference
from router.composition.merge_state import MergeState, merge_description
from router.composition.supergraph import (
    DirectiveDef,
    InputValue,
)

_EXECUTABLE_LOCATIONS = {
    "QUERY", "MUTATION", "SUBSCRIPTION", "FIELD", "FRAGMENT_DEFINITION", "FRAGMENT_SPREAD",
    "INLINE_FRAGMENT", "VARIABLE_DEFINITION",
}  # fmt: skip


def merge_executable_directives(state: MergeState) -> None:
    """Add executable directives every subgraph defines, restricted to common locations and arguments."""
    names: list[str] = []
    for s in state.subgraphs:
        for d in s.directive_definitions.values():
            if d.name not in names and set(d.locations) & _EXECUTABLE_LOCATIONS:
                names.append(d.name)
    for name in names:
        definitions = [s.directive_definitions.get(name) for s in state.subgraphs]
        if any(d is None for d in definitions):
            continue
        defs = [d for d in definitions if d is not None]
        locations = [loc for loc in defs[0].locations if loc in _EXECUTABLE_LOCATIONS]
        for d in defs[1:]:
            locations = [loc for loc in locations if loc in d.locations]
        if not locations:
            continue
        target = DirectiveDef(
            name,
            repeatable=all(d.repeatable for d in defs),
            locations=locations,
            description=merge_description(defs),
        )
        arg_names = [a for a in defs[0].args if all(a in d.args for d in defs)]
        for arg_name in arg_names:
            arg_sources = [d.args[arg_name] for d in defs]
            arg = target.args[arg_name] = InputValue(arg_name)
            arg.description = merge_description(arg_sources)
            merge_type_reference(
                state, arg_sources, arg, f"@{name}({arg_name}:)", is_input=True, argument=True
            )
            merge_default(state, arg_sources, arg, f"@{name}({arg_name}:)", "Argument")
        state.merged.directives[name] = target
