"""Operations: parse, validate and normalize client requests (cached).

In: query text and operation name. Out: a ``PreparedOperation`` (parsed, validated, with the
variables its ``@skip``/``@include`` depend on) and, for given condition values, a
normalized selection tree (``NSelection``: fragments expanded, conditions applied, fields
merged per response key, per concrete runtime type) that the planner and the response
shaper both walk.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_composite_type,
    parse,
    validate,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef

from router import errors

K = TypeVar("K")
V = TypeVar("V")

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


class LRUCache(Generic[K, V]):
    """A small least-recently-used mapping."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The cached value, marked as recently used, or ``None``."""
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Store ``value``, evicting the least recently used entry when full."""
        self._data[key] = value
        self._data.move_to_end(key)
        if len(self._data) > self.maxsize:
            self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


NON_NULL = "!"
LIST = "[]"


@dataclass(slots=True)
class NField:
    """A field of the normalized operation, for one concrete parent type."""

    response_key: str
    name: str
    alias: str | None
    arguments: tuple[ArgumentNode, ...]
    type: GraphQLOutputType
    parent_type: str
    selection: NSelection | None = None
    modifiers: tuple[str, ...] = ()
    """Type wrappers from the outside in (``NON_NULL``, ``LIST``), for fast response shaping."""
    object_type: str | None = None
    """The named type when it is an object type (its ``__typename`` needs no lookup)."""
    is_list: bool = False

    def __post_init__(self) -> None:
        modifiers: list[str] = []
        type_: Any = self.type
        while isinstance(type_, GraphQLNonNull | GraphQLList):
            modifiers.append(NON_NULL if isinstance(type_, GraphQLNonNull) else LIST)
            type_ = type_.of_type
        self.modifiers = tuple(modifiers)
        self.is_list = LIST in modifiers
        self.object_type = type_.name if isinstance(type_, GraphQLObjectType) else None


@dataclass(slots=True)
class NSelection:
    """Fields selected on a composite value, per concrete runtime type name."""

    by_type: dict[str, list[NField]] = field(default_factory=dict)


@dataclass(slots=True)
class PreparedOperation:
    """A parsed and validated operation, ready to be planned."""

    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    condition_variables: tuple[str, ...]
    """Variables used by ``@skip``/``@include``: the plan depends on their values."""
    analysis: Any = None
    """Measures for the edge's limits (``router.edge.limits.OperationAnalysis``), computed once."""

    @property
    def kind(self) -> str:
        """``query``, ``mutation`` or ``subscription``."""
        return self.operation.operation.value


def prepare_operation(
    schema: GraphQLSchema, query: str, operation_name: str | None, *, max_tokens: int | None = None
) -> PreparedOperation:
    """Parse, validate and select the operation; raises ``RequestError`` with a code.

    ``max_tokens`` stops parsing early (``limits.parser_max_tokens``): a 2 MB document of tiny
    fields costs seconds to parse and validate in full.
    """
    try:
        document = parse(query, no_location=False, max_tokens=max_tokens)
    except GraphQLError as error:
        raise errors.RequestError(
            error.message,
            code=errors.GRAPHQL_PARSE_FAILED,
            errors=[_located(error, errors.GRAPHQL_PARSE_FAILED)],
        ) from error
    validation = validate(schema, document)
    if validation:
        raise errors.RequestError(
            validation[0].message,
            code=errors.GRAPHQL_VALIDATION_FAILED,
            errors=[_located(e, errors.GRAPHQL_VALIDATION_FAILED) for e in validation],
        )
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name:
        chosen = [op for op in operations if op.name and op.name.value == operation_name]
        if not chosen:
            raise errors.RequestError(
                f'Unknown operation named "{operation_name}".',
                code=errors.GRAPHQL_UNKNOWN_OPERATION_NAME,
            )
        operation = chosen[0]
    elif len(operations) == 1:
        operation = operations[0]
    else:
        raise errors.RequestError(
            "Must provide operation name if query contains multiple operations.",
            code=errors.GRAPHQL_UNKNOWN_OPERATION_NAME,
        )
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return PreparedOperation(
        document=document,
        operation=operation,
        fragments=fragments,
        condition_variables=tuple(sorted(_condition_variables(document))),
    )


def _located(error: GraphQLError, code: str) -> dict[str, Any]:
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [
            {"line": loc.line, "column": loc.column} for loc in error.locations
        ]
    formatted["extensions"] = {"code": code}
    return formatted


def _condition_variables(document: DocumentNode) -> set[str]:
    found: set[str] = set()

    def visit(selection_set: SelectionSetNode | None) -> None:
        for selection in selection_set.selections if selection_set else ():
            for directive in selection.directives or ():
                if directive.name.value in ("skip", "include"):
                    for argument in directive.arguments or ():
                        if isinstance(argument.value, VariableNode):
                            found.add(argument.value.name.value)
            visit(getattr(selection, "selection_set", None))

    for definition in document.definitions:
        visit(getattr(definition, "selection_set", None))
    return found


def normalize(
    schema: GraphQLSchema, prepared: PreparedOperation, conditions: dict[str, bool]
) -> NSelection:
    """The normalized root selection of the operation for these ``@skip``/``@include`` values."""
    root = schema.get_root_type(prepared.operation.operation)
    assert root is not None  # validation guarantees the root type exists
    normalizer = _Normalizer(schema, prepared.fragments, conditions)
    return NSelection(
        by_type={root.name: normalizer.fields(root, [prepared.operation.selection_set])}
    )


class _Normalizer:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        conditions: dict[str, bool],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.conditions = conditions

    def fields(
        self, runtime: GraphQLObjectType, selection_sets: list[SelectionSetNode]
    ) -> list[NField]:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(runtime, selection_set, grouped, set())
        result: list[NField] = []
        for key, nodes in grouped.items():
            first = nodes[0]
            name = first.name.value
            if name == "__typename":
                field_type: GraphQLOutputType = TypeNameMetaFieldDef.type
            elif name == "__schema":
                field_type = SchemaMetaFieldDef.type
            elif name == "__type":
                field_type = TypeMetaFieldDef.type
            else:
                field_type = runtime.fields[name].type
            nfield = NField(
                response_key=key,
                name=name,
                alias=first.alias.value if first.alias else None,
                arguments=tuple(first.arguments or ()),
                type=field_type,
                parent_type=runtime.name,
            )
            named = get_named_type(field_type)
            if is_composite_type(named) and name not in INTROSPECTION_FIELDS:
                subsets = [n.selection_set for n in nodes if n.selection_set is not None]
                nfield.selection = self.selection(named, subsets)
            result.append(nfield)
        return result

    def selection(self, named: GraphQLNamedType, subsets: list[SelectionSetNode]) -> NSelection:
        if is_abstract_type(named):
            runtimes = list(self.schema.get_possible_types(named))  # type: ignore[arg-type]
        else:
            runtimes = [named]  # type: ignore[list-item]
        return NSelection(by_type={r.name: self.fields(r, subsets) for r in runtimes})

    def _collect(
        self,
        runtime: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    selection.type_condition.name.value if selection.type_condition else None
                )
                if condition is None or self._applies(condition, runtime):
                    self._collect(runtime, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visited:
                    continue
                visited.add(name)
                if self._applies(fragment.type_condition.name.value, runtime):
                    self._collect(runtime, fragment.selection_set, grouped, visited)

    def _applies(self, condition: str, runtime: GraphQLObjectType) -> bool:
        if condition == runtime.name:
            return True
        condition_type = self.schema.get_type(condition)
        return is_abstract_type(condition_type) and self.schema.is_sub_type(
            condition_type,  # type: ignore[arg-type]
            runtime,
        )

    def _included(self, node: Any) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            value = self._condition(directive.arguments)
            if (name == "skip" and value) or (name == "include" and not value):
                return False
        return True

    def _condition(self, arguments: Any) -> bool:
        for argument in arguments or ():
            if argument.name.value == "if":
                if isinstance(argument.value, VariableNode):
                    return bool(self.conditions.get(argument.value.name.value, False))
                return bool(getattr(argument.value, "value", False))
        return False
