"""Operation limits and demand control, computed once per prepared operation.

In: a ``PreparedOperation`` (parsed and validated), the API schema and the supergraph SDL
(for ``@listSize``/``@cost``). Out: an ``OperationAnalysis`` cached on the prepared operation
(depth, height, root fields, aliases and a cost estimate that may depend on variables), and
``check`` raising ``MAX_DEPTH_LIMIT``, ``MAX_HEIGHT_LIMIT``, ``MAX_ROOT_FIELDS_LIMIT``,
``MAX_ALIASES_LIMIT`` or ``COST_ESTIMATED_TOO_EXPENSIVE``.

Measures (Apollo Router's definitions): depth counts nested fields (a root field is 1);
height counts unique fields (by response key and path, fragments spread, each alias
counted); root fields counts the operation's top-level fields; aliases counts aliased fields.
``@skip``/``@include`` are ignored (the worst case counts). Introspection subtrees
(``__schema``, ``__type``) are governed by ``supergraph.introspection`` and not counted.

Cost (Apollo's static estimate): an object, interface or union field costs 1, a scalar or enum
0, a mutation root field 10, ``@cost(weight)`` overrides; a list multiplies its item's cost by
its size: ``@listSize(assumedSize)``, the value of a ``slicingArguments`` argument (from the
directive, else the configured names such as ``first``), else ``list_size``. A slicing
argument on a non-list field (a connection) sizes that field's list fields (or
``@listSize(sizedFields)``). Sizes given as variables are read per request; everything else
is folded into constants when the operation is prepared.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    InterfaceTypeDefinitionNode,
    InterfaceTypeExtensionNode,
    IntValueNode,
    ListValueNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
    is_composite_type,
    parse,
)

from router.edge import errors as codes
from router.edge.config import DemandControlConfig, LimitsConfig
from router.errors import RequestError
from router.operation import INTROSPECTION_FIELDS, PreparedOperation

logger = logging.getLogger("router.edge")

WALK_BUDGET = 20_000
"""Fields visited at most per operation (fragments can multiply paths exponentially); beyond
it the operation is refused with ``MAX_HEIGHT_LIMIT`` whatever the configured limits."""
MUTATION_ROOT_WEIGHT = 10.0
_LIST_SIZE_NAMES = frozenset({"listSize", "cost__listSize", "federation__listSize"})
_COST_NAMES = frozenset({"cost", "cost__cost", "federation__cost"})


@dataclass(frozen=True, slots=True)
class ListSize:
    """``@listSize`` on a field."""

    assumed_size: int | None = None
    slicing_arguments: tuple[str, ...] = ()
    sized_fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CostDirectives:
    """``@cost`` weights and ``@listSize`` settings by ``(type, field)`` from the supergraph."""

    weights: Mapping[tuple[str, str], float]
    list_sizes: Mapping[tuple[str, str], ListSize]

    @classmethod
    def from_sdl(cls, sdl: str) -> CostDirectives:
        """Read the directives from a supergraph SDL (empty when there is none)."""
        weights: dict[tuple[str, str], float] = {}
        sizes: dict[tuple[str, str], ListSize] = {}
        if "listSize" not in sdl and "cost" not in sdl:
            return cls(weights, sizes)
        kinds = (
            ObjectTypeDefinitionNode,
            ObjectTypeExtensionNode,
            InterfaceTypeDefinitionNode,
            InterfaceTypeExtensionNode,
        )
        for definition in parse(sdl, no_location=True).definitions:
            if not isinstance(definition, kinds):
                continue
            for field in definition.fields or ():
                key = (definition.name.value, field.name.value)
                for directive in field.directives or ():
                    args = {a.name.value: a.value for a in directive.arguments or ()}
                    if directive.name.value in _COST_NAMES and "weight" in args:
                        weights[key] = float(getattr(args["weight"], "value", 1))
                    elif directive.name.value in _LIST_SIZE_NAMES:
                        assumed = args.get("assumedSize")
                        sizes[key] = ListSize(
                            assumed_size=(
                                int(assumed.value) if isinstance(assumed, IntValueNode) else None
                            ),
                            slicing_arguments=_strings(args.get("slicingArguments")),
                            sized_fields=_strings(args.get("sizedFields")),
                        )
        return cls(weights, sizes)


def _strings(node: Any) -> tuple[str, ...]:
    if isinstance(node, ListValueNode):
        return tuple(v.value for v in node.values if isinstance(v, StringValueNode))
    return ()


Size = int | str | None
"""A list size: a number, a variable name read per request, or ``None`` (the default)."""


@dataclass(frozen=True, slots=True)
class CostNode:
    """Cost of a field: ``size * (weight + children)``, sized per request when needed."""

    weight: float
    size: Size
    children: tuple[CostNode, ...]

    def evaluate(self, variables: Mapping[str, Any], default_size: int) -> float:
        """The estimated cost for these variable values."""
        size = self.size
        if isinstance(size, str):
            value = variables.get(size)
            size = value if isinstance(value, int) and value >= 0 else default_size
        elif size is None:
            size = 1
        children = sum(c.evaluate(variables, default_size) for c in self.children)
        return size * (self.weight + children)


@dataclass(frozen=True, slots=True)
class OperationAnalysis:
    """The measures of one prepared operation."""

    depth: int
    height: int
    root_fields: int
    aliases: int
    cost: float | tuple[CostNode, ...]
    """A constant, or root cost nodes whose sizes depend on variables."""

    def estimated_cost(self, variables: Mapping[str, Any], default_size: int) -> float:
        """The cost for these variables."""
        if isinstance(self.cost, float):
            return self.cost
        return sum(node.evaluate(variables, default_size) for node in self.cost)


class OperationLimits:
    """Analyses prepared operations and enforces ``limits`` and ``demand_control``."""

    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        limits: LimitsConfig,
        demand_control: DemandControlConfig,
        supergraph_sdl: str = "",
    ) -> None:
        self.schema = schema
        self.limits = limits
        self.demand = demand_control
        self.enabled = demand_control.enabled or any(
            value is not None
            for value in (
                limits.max_depth,
                limits.max_height,
                limits.max_root_fields,
                limits.max_aliases,
            )
        )
        self.directives = (
            CostDirectives.from_sdl(supergraph_sdl)
            if demand_control.enabled and supergraph_sdl
            else CostDirectives({}, {})
        )

    def analyze(self, prepared: PreparedOperation) -> OperationAnalysis | None:
        """The operation's measures (``None`` when no limit is configured)."""
        if not self.enabled:
            return None
        return _Analyzer(self, prepared).run()

    def check(self, prepared: PreparedOperation, variables: Mapping[str, Any]) -> None:
        """Raise the first exceeded limit's error."""
        analysis: OperationAnalysis | None = getattr(prepared, "analysis", None)
        if analysis is None:
            return
        limits = self.limits
        if analysis.height > WALK_BUDGET:
            raise RequestError(
                "Maximum height (field count) limit exceeded in this operation",
                code=codes.MAX_HEIGHT_LIMIT,
            )
        for limit, value, code, what in (
            (limits.max_depth, analysis.depth, codes.MAX_DEPTH_LIMIT, "depth"),
            (limits.max_height, analysis.height, codes.MAX_HEIGHT_LIMIT, "height (field count)"),
            (
                limits.max_root_fields,
                analysis.root_fields,
                codes.MAX_ROOT_FIELDS_LIMIT,
                "root fields",
            ),
            (limits.max_aliases, analysis.aliases, codes.MAX_ALIASES_LIMIT, "aliases"),
        ):
            if limit is not None and value > limit:
                message = f"Maximum {what} limit exceeded in this operation"
                if limits.warn_only:
                    logger.warning("%s (%s: %d > %d)", message, code, value, limit)
                    continue
                raise RequestError(message, code=code)
        if self.demand.enabled:
            cost = analysis.estimated_cost(variables, self.demand.list_size)
            if cost > self.demand.max:
                if self.demand.mode == "measure":
                    logger.warning("operation cost %.0f is over %.0f", cost, self.demand.max)
                    return
                raise RequestError(
                    f"The estimated cost of this operation ({cost:.0f}) is over the maximum "
                    f"of {self.demand.max:.0f}",
                    code=codes.COST_ESTIMATED_TOO_EXPENSIVE,
                )


class _Budget(Exception):
    """The walk visited more fields than ``WALK_BUDGET``."""


class _Analyzer:
    def __init__(self, owner: OperationLimits, prepared: PreparedOperation) -> None:
        self.owner = owner
        self.schema = owner.schema
        self.fragments = prepared.fragments
        self.prepared = prepared
        self.height = 0
        self.aliases = 0
        self.depth = 0
        self.variable_sized = False

    def run(self) -> OperationAnalysis:
        operation = self.prepared.operation
        root = self.schema.get_root_type(operation.operation)
        assert root is not None  # validated
        is_mutation = self.prepared.kind == "mutation"
        try:
            groups = self._group([(operation.selection_set, root)])
            root_fields = len(groups)
            nodes = tuple(
                self._field(key, entries, 1, mutation_root=is_mutation)
                for key, entries in groups.items()
            )
        except _Budget:
            return OperationAnalysis(
                depth=self.depth,
                height=WALK_BUDGET + 1,
                root_fields=0,
                aliases=self.aliases,
                cost=float("inf"),
            )
        default = self.owner.demand.list_size
        cost: float | tuple[CostNode, ...] = (
            tuple(nodes)
            if self.variable_sized
            else float(sum(n.evaluate({}, default) for n in nodes))
        )
        return OperationAnalysis(
            depth=self.depth,
            height=self.height,
            root_fields=root_fields,
            aliases=self.aliases,
            cost=cost,
        )

    def _group(
        self, sets: list[tuple[SelectionSetNode, Any]]
    ) -> dict[str, list[tuple[FieldNode, Any]]]:
        """Fields of these selection sets (fragments spread) by response key."""
        grouped: dict[str, list[tuple[FieldNode, Any]]] = {}

        def collect(selection_set: SelectionSetNode, parent: Any, seen: frozenset[str]) -> None:
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    grouped.setdefault(key, []).append((selection, parent))
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    target = self.schema.get_type(condition.name.value) if condition else parent
                    collect(selection.selection_set, target, seen)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is not None and name not in seen:
                        target = self.schema.get_type(fragment.type_condition.name.value)
                        collect(fragment.selection_set, target, seen | {name})

        for selection_set, parent in sets:
            collect(selection_set, parent, frozenset())
        return grouped

    def _field(
        self,
        key: str,
        entries: list[tuple[FieldNode, Any]],
        depth: int,
        *,
        mutation_root: bool = False,
        size_from_parent: Size = None,
    ) -> CostNode:
        node, parent = entries[0]
        name = node.name.value
        if name in INTROSPECTION_FIELDS or name == "__typename":
            return CostNode(0.0, None, ())
        self.height += 1
        if self.height > WALK_BUDGET:
            raise _Budget
        self.depth = max(self.depth, depth)
        self.aliases += sum(1 for n, _ in entries if n.alias is not None)
        definition = getattr(parent, "fields", {}).get(name)
        if definition is None:  # validation guarantees it; be defensive
            return CostNode(0.0, None, ())
        named = get_named_type(definition.type)
        composite = is_composite_type(named)
        directives = self.owner.directives
        weight = directives.weights.get(
            (parent.name, name),
            (1.0 if composite else 0.0) + (MUTATION_ROOT_WEIGHT if mutation_root else 0.0),
        )
        is_list = _is_list(definition.type)
        list_size = directives.list_sizes.get((parent.name, name))
        slicing = self._slicing_size(node, list_size)
        size: Size = None
        child_size: Size = None
        sized_fields: tuple[str, ...] = ()
        if is_list:
            size = slicing if slicing is not None else size_from_parent
            if size is None:
                size = (
                    list_size.assumed_size
                    if list_size and list_size.assumed_size is not None
                    else self.owner.demand.list_size
                )
        elif slicing is not None:  # a connection: its list fields take the size
            child_size = slicing
            sized_fields = list_size.sized_fields if list_size else ()
        children: tuple[CostNode, ...] = ()
        if composite:
            subsets = [(n.selection_set, named) for n, _ in entries if n.selection_set]
            groups = self._group(subsets)
            children = tuple(
                self._field(
                    child_key,
                    child_entries,
                    depth + 1,
                    size_from_parent=(
                        child_size
                        if child_size is not None
                        and (not sized_fields or child_entries[0][0].name.value in sized_fields)
                        else None
                    ),
                )
                for child_key, child_entries in groups.items()
            )
        if isinstance(size, str):
            self.variable_sized = True
        return CostNode(weight, size, children)

    def _slicing_size(self, node: FieldNode, list_size: ListSize | None) -> Size:
        names = (
            list_size.slicing_arguments
            if list_size and list_size.slicing_arguments
            else self.owner.demand.slicing_arguments
        )
        for argument in node.arguments or ():
            if argument.name.value in names:
                value = argument.value
                if isinstance(value, IntValueNode):
                    return int(value.value)
                if isinstance(value, VariableNode):
                    return value.name.value
        return None


def _is_list(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)
