"""Checks on the merged supergraph (Apollo's ``postMergeValidations``).

In: the merged `Supergraph` and the subgraphs.
Out: ``INTERFACE_FIELD_NO_IMPLEM`` when an implementation lacks an interface field,
and ``REQUIRES_INVALID_FIELDS`` when a ``@requires`` field set, read against the
supergraph, passes an argument the merged field lacks or omits a required one.
"""

from __future__ import annotations

from collections.abc import Callable

from graphql import GraphQLSyntaxError, parse
from graphql.language import FieldNode, InlineFragmentNode, SelectionSetNode

from router.composition.errors import CompositionError, subgraph_error
from router.composition.merge_state import MergeState
from router.composition.metadata import base_type
from router.composition.naming import subgraph_names
from router.composition.subgraph_sdl import Field, Subgraph
from router.composition.supergraph import UNSET


def post_merge_validations(state: MergeState) -> None:
    """Checks that need the whole merged supergraph."""
    for t in state.merged.types.values():
        if t.kind not in ("object", "interface"):
            continue
        for itf_name in t.interfaces:
            itf = state.merged.types.get(itf_name)
            if itf is None:
                continue
            for itf_field in itf.fields:
                if itf_field in t.fields:
                    continue
                with_field = [
                    s.name
                    for s in state.subgraphs
                    if s.types.get(itf_name)
                    and s.types[itf_name].kind == "interface"
                    and itf_field in s.types[itf_name].fields
                ]
                implementing = [
                    s.name
                    for s in state.subgraphs
                    if s.types.get(t.name) and itf_name in s.types[t.name].interfaces
                ]
                state.errors.append(
                    CompositionError(
                        "INTERFACE_FIELD_NO_IMPLEM",
                        f'Interface field "{itf_name}.{itf_field}" is declared in {subgraph_names(with_field)} '
                        f'but type "{t.name}", which implements "{itf_name}" only in '
                        f'{subgraph_names(implementing)} does not have field "{itf_field}".',
                    )
                )
    _requires_arguments(state)


def _requires_arguments(state: MergeState) -> None:
    """``@requires`` field sets re-read against the supergraph: arguments must still match."""
    for idx, s in enumerate(state.subgraphs):
        for t in s.types.values():
            for f in t.fields.values():
                for requires in s.applied(f.directives, "requires"):
                    document = _parse_selection(requires.args.get("fields"))
                    if document is None:
                        continue
                    for message, field_coordinate, check in _argument_problems(
                        state, t.name, document
                    ):
                        others = [
                            other.name
                            for other in state.subgraphs
                            if other is not s and _field_matches(other, field_coordinate, check)
                        ]
                        state.errors.append(
                            subgraph_error(
                                "REQUIRES_INVALID_FIELDS",
                                state.names[idx],
                                f'On field "{f.coordinate}", for {requires}: '
                                + message.format(subgraphs=subgraph_names(others)),
                            )
                        )


def _parse_selection(fields: object) -> SelectionSetNode | None:
    if not isinstance(fields, str):
        return None
    try:
        operation = parse("{" + fields + "}", no_location=True).definitions[0]
    except GraphQLSyntaxError:
        return None
    return getattr(operation, "selection_set", None)


_Check = Callable[[Field], bool]


def _argument_problems(
    state: MergeState, parent: str, selection_set: SelectionSetNode
) -> list[tuple[str, str, _Check]]:
    """The first argument mismatch of a field set against the supergraph (Apollo stops at one)."""
    merged = state.merged.types.get(parent)
    for selection in selection_set.selections:
        if isinstance(selection, InlineFragmentNode):
            target = selection.type_condition.name.value if selection.type_condition else parent
            problems = _argument_problems(state, target, selection.selection_set)
        elif isinstance(selection, FieldNode):
            field = merged.fields.get(selection.name.value) if merged else None
            if field is None:
                continue
            coordinate = f"{parent}.{field.name}"
            given = [a.name.value for a in selection.arguments or ()]
            for name in given:
                if name not in field.args:
                    return [
                        (
                            f'cannot provide a value for argument "{name}" of field "{coordinate}" as '
                            f'argument "{name}" is not defined in {{subgraphs}}',
                            coordinate,
                            _lacks_argument(name),
                        )
                    ]
            for definition in field.args.values():
                required = definition.type.endswith("!") and definition.default is UNSET
                if required and definition.name not in given:
                    name = definition.name
                    return [
                        (
                            f'no value provided for argument "{name}" of field "{coordinate}" but a '
                            f'value is mandatory as "{name}" is required in {{subgraphs}}',
                            coordinate,
                            _requires_argument(name),
                        )
                    ]
            if selection.selection_set is None:
                continue
            problems = _argument_problems(state, base_type(field.type), selection.selection_set)
        else:
            continue
        if problems:
            return problems
    return []


def _lacks_argument(name: str) -> _Check:
    def check(field: Field) -> bool:
        return name not in field.args

    return check


def _requires_argument(name: str) -> _Check:
    def check(field: Field) -> bool:
        arg = field.args.get(name)
        return arg is not None and arg.type.endswith("!") and not arg.has_default

    return check


def _field_matches(subgraph: Subgraph, coordinate: str, check: _Check) -> bool:
    type_name, _, field_name = coordinate.partition(".")
    t = subgraph.types.get(type_name)
    field = t.fields.get(field_name) if t else None
    return field is not None and check(field)
