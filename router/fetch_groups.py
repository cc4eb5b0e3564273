"""Fetch groups: the fetches a plan is made of, while the planner builds them.

In: the planner's decisions (which subgraph, where results merge, what to select, which
representations to send). Out: ``FetchGroup``s with their ``SubSelection``s, printed into
compact subgraph operations, and ``build_plan`` turning the group tree into ``QueryPlan``
nodes (a group's fetch, then its children staged by their dependencies).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, cast

from graphql import (
    ArgumentNode,
    FieldNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    print_ast,
)

from router.errors import PlanningError
from router.plan import (
    FetchNode,
    FlattenNode,
    ParallelNode,
    PlanNode,
    QueryPlan,
    RequiredField,
    RequiredFragment,
    RequiredSelection,
    SequenceNode,
)


@dataclass(slots=True)
class SubField:
    """A field of a subgraph operation being built."""

    name: str
    alias: str | None
    arguments: tuple[ArgumentNode, ...]
    selection: SubSelection | None = None


@dataclass(slots=True)
class SubSelection:
    """A selection set of a subgraph operation being built."""

    fields: dict[str, SubField] = field(default_factory=dict)
    fragments: dict[str, SubSelection] = field(default_factory=dict)

    def add(
        self,
        name: str,
        *,
        alias: str | None = None,
        arguments: tuple[ArgumentNode, ...] = (),
        composite: bool = False,
    ) -> SubField:
        """The field under its response key, added if missing."""
        key = alias or name
        existing = self.fields.get(key)
        if existing is not None:
            if existing.name != name:
                raise PlanningError(
                    f'Response key "{key}" is used for both "{existing.name}" and "{name}", '
                    "which the planner cannot alias yet"
                )
            return existing
        added = SubField(name=name, alias=alias, arguments=arguments)
        if composite:
            added.selection = SubSelection()
        self.fields[key] = added
        return added

    def fragment(self, type_name: str) -> SubSelection:
        """The inline fragment ``... on type_name``, added if missing."""
        return self.fragments.setdefault(type_name, SubSelection())

    def add_field_set(
        self, selection_set: SelectionSetNode, aliases: dict[str, str] | None = None
    ) -> None:
        """Add a ``FieldSet`` (key or requires); ``aliases`` renames top-level fields."""
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                name = node.name.value
                alias = aliases.get(name) if aliases else None
                sub = self.add(name, alias=alias, composite=node.selection_set is not None)
                if node.selection_set is not None and sub.selection is not None:
                    sub.selection.add_field_set(node.selection_set)
            elif isinstance(node, InlineFragmentNode) and node.type_condition is not None:
                self.fragment(node.type_condition.name.value).add_field_set(node.selection_set)

    def print(self) -> str:
        """Compact GraphQL text: ``{a b:c(x:1){d}...on T{e}}``."""
        parts: list[str] = []
        for sub in self.fields.values():
            text = f"{sub.alias}:{sub.name}" if sub.alias else sub.name
            if sub.arguments:
                args = ",".join(f"{a.name.value}:{print_ast(a.value)}" for a in sub.arguments)
                text += f"({args})"
            if sub.selection is not None:
                text += sub.selection.print()
            parts.append(text)
        parts.extend(f"...on {name}{frag.print()}" for name, frag in self.fragments.items())
        return "{" + " ".join(parts) + "}"


@dataclass(eq=False, slots=True)
class FetchGroup:
    """One future fetch: a subgraph, where its result merges, what it selects."""

    id: int
    service: str
    kind: str
    merge_path: tuple[str, ...]
    is_entity: bool
    parent: FetchGroup | None = None
    children: list[FetchGroup] = field(default_factory=list)
    depends_on: set[FetchGroup] = field(default_factory=set)
    selection: SubSelection = field(default_factory=SubSelection)
    requires: dict[str, SubSelection] = field(default_factory=dict)
    entity_types: dict[str, str] = field(default_factory=dict)
    variables: set[str] = field(default_factory=set)

    def is_descendant_of(self, other: FetchGroup) -> bool:
        """Whether ``other`` is this group or one of its ancestors."""
        node: FetchGroup | None = self
        while node is not None:
            if node is other:
                return True
            node = node.parent
        return False


def build_plan(
    roots: list[FetchGroup], *, kind: str, operation: OperationDefinitionNode
) -> QueryPlan:
    """The ``QueryPlan`` of root groups (queries in parallel, mutations in sequence)."""
    assembler = _PlanAssembler(operation)
    nodes = [assembler.node_for(group) for group in roots]
    if not nodes:
        return QueryPlan(node=None)
    if len(nodes) == 1:
        return QueryPlan(node=nodes[0])
    if kind == "mutation":
        return QueryPlan(node=SequenceNode(tuple(nodes)))
    return QueryPlan(node=ParallelNode(tuple(nodes)))


class _PlanAssembler:
    def __init__(self, operation: OperationDefinitionNode) -> None:
        self.operation = operation

    def node_for(self, group: FetchGroup) -> PlanNode:
        fetch = self._fetch_node(group)
        own: PlanNode = FlattenNode(path=group.merge_path, node=fetch) if group.is_entity else fetch
        if not group.children:
            return own
        nodes: list[PlanNode] = [own]
        for stage in self._stages(group):
            children = [self.node_for(child) for child in stage]
            if len(children) > 1:
                nodes.append(ParallelNode(tuple(children)))
            elif isinstance(children[0], SequenceNode):
                nodes.extend(children[0].nodes)
            else:
                nodes.append(children[0])
        return SequenceNode(tuple(nodes))

    def _stages(self, group: FetchGroup) -> list[list[FetchGroup]]:
        """Children of ``group`` by level: a child waits for the siblings it depends on."""
        levels: dict[int, int] = {}

        def sibling_of(dep: FetchGroup) -> FetchGroup | None:
            node: FetchGroup | None = dep
            while node is not None and node.parent is not group:
                node = node.parent
            return node

        def level(child: FetchGroup, seen: frozenset[int]) -> int:
            if child.id in levels:
                return levels[child.id]
            if child.id in seen:
                raise PlanningError("Circular dependency between fetches")
            siblings = {sibling_of(d) for d in child.depends_on} - {None, child}
            value = 1 + max(
                (level(s, seen | {child.id}) for s in siblings if s is not None), default=-1
            )
            levels[child.id] = value
            return value

        for child in group.children:
            level(child, frozenset())
        stages: list[list[FetchGroup]] = [[] for _ in range(max(levels.values()) + 1)]
        for child in group.children:
            stages[levels[child.id]].append(child)
        return stages

    def _fetch_node(self, group: FetchGroup) -> FetchNode:
        variables = [
            d
            for d in self.operation.variable_definitions or ()
            if d.variable.name.value in group.variables
        ]
        definitions = [
            f"${d.variable.name.value}:{print_ast(d.type)}"
            + (f"={print_ast(d.default_value)}" if d.default_value is not None else "")
            for d in variables
        ]
        name = None
        if self.operation.name is not None:
            name = f"{self.operation.name.value}__{group.service}__{group.id}"
        requires: tuple[RequiredFragment, ...] | None = None
        if group.is_entity:
            definitions.insert(0, "$representations:[_Any!]!")
            body = "{_entities(representations:$representations)" + group.selection.print() + "}"
            requires = tuple(
                RequiredFragment(
                    type_condition=t,
                    selections=_required(s),
                    entity_type=group.entity_types.get(t),
                )
                for t, s in group.requires.items()
            )
        else:
            body = group.selection.print()
        header = group.kind + (f" {name}" if name else "")
        if definitions:
            header += "(" + ",".join(definitions) + ")"
        kind = cast(Literal["query", "mutation", "subscription"], group.kind)
        return FetchNode(
            service_name=group.service,
            operation=header + body,
            operation_kind=kind,
            requires=requires,
            variable_usages=tuple(d.variable.name.value for d in variables),
            operation_name=name,
            id=group.id,
        )


def _required(selection: SubSelection) -> tuple[RequiredSelection, ...]:
    fields: list[RequiredSelection] = [
        RequiredField(
            name=f.name,
            response_key=f.alias or f.name,
            selections=_required(f.selection) if f.selection else (),
        )
        for f in selection.fields.values()
    ]
    fields.extend(
        RequiredFragment(type_condition=t, selections=_required(s))
        for t, s in selection.fragments.items()
    )
    return tuple(fields)
