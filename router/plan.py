"""Query plan data model and its readable printer.

In: nothing (data types); the planner builds these and the executor runs them.
Out: ``QueryPlan`` with nodes ``FetchNode``, ``FlattenNode``, ``SequenceNode``,
``ParallelNode`` (Apollo's shapes), and ``format_plan`` printing
``QueryPlan { Sequence { Fetch(service: "a") {...} Flatten(path: "me") {...} } }``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from graphql import parse, print_ast


@dataclass(frozen=True, slots=True)
class RequiredField:
    """A field copied from merged data (under ``response_key``) into a representation (as ``name``)."""

    name: str
    response_key: str
    selections: tuple[RequiredSelection, ...] = ()


@dataclass(frozen=True, slots=True)
class RequiredFragment:
    """Representation fields for objects whose ``__typename`` is ``type_condition``.

    ``entity_type`` is the ``__typename`` sent in the representation when it differs: an
    interface name for subgraphs that see the interface as an ``@interfaceObject``.
    """

    type_condition: str
    selections: tuple[RequiredSelection, ...]
    entity_type: str | None = None


RequiredSelection = RequiredField | RequiredFragment


@dataclass(frozen=True, slots=True)
class FetchNode:
    """One request to a subgraph.

    ``operation`` is the pre-printed subgraph operation. ``requires`` is ``None`` for a root
    fetch; for an ``_entities`` fetch it selects, per type, the key and ``@requires`` fields
    that make up each representation.
    """

    service_name: str
    operation: str
    operation_kind: Literal["query", "mutation", "subscription"] = "query"
    requires: tuple[RequiredFragment, ...] | None = None
    variable_usages: tuple[str, ...] = ()
    operation_name: str | None = None
    id: int = 0


@dataclass(frozen=True, slots=True)
class FlattenNode:
    """Run ``node`` for the objects at ``path`` (response keys, ``"@"`` for list items)."""

    path: tuple[str, ...]
    node: PlanNode


@dataclass(frozen=True, slots=True)
class SequenceNode:
    """Run ``nodes`` one after the other."""

    nodes: tuple[PlanNode, ...]


@dataclass(frozen=True, slots=True)
class ParallelNode:
    """Run ``nodes`` concurrently."""

    nodes: tuple[PlanNode, ...]


PlanNode = FetchNode | FlattenNode | SequenceNode | ParallelNode


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """The plan of one operation; ``node`` is ``None`` when no fetch is needed."""

    node: PlanNode | None

    def fetches(self) -> list[FetchNode]:
        """Every fetch of the plan, depth first."""
        found: list[FetchNode] = []
        if self.node is not None:
            _collect_fetches(self.node, found)
        return found

    def __str__(self) -> str:
        return format_plan(self)


def _collect_fetches(node: PlanNode, found: list[FetchNode]) -> None:
    if isinstance(node, FetchNode):
        found.append(node)
    elif isinstance(node, FlattenNode):
        _collect_fetches(node.node, found)
    else:
        for child in node.nodes:
            _collect_fetches(child, found)


def format_plan(plan: QueryPlan) -> str:
    """A readable, Apollo-like text form of ``plan``."""
    lines = ["QueryPlan {"]
    if plan.node is not None:
        _format_node(plan.node, 1, lines)
    lines.append("}")
    return "\n".join(lines)


def _format_node(node: PlanNode, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    if isinstance(node, FetchNode):
        lines.append(f'{pad}Fetch(service: "{node.service_name}") {{')
        if node.requires is not None:
            lines.append(f"{pad}  {{")
            _format_required(node.requires, depth + 2, lines)
            lines.append(f"{pad}  }} =>")
        body = print_ast(parse(node.operation, no_location=True))
        lines.extend(f"{pad}  {line}" for line in body.splitlines())
        lines.append(f"{pad}}},")
    elif isinstance(node, FlattenNode):
        lines.append(f'{pad}Flatten(path: "{".".join(node.path)}") {{')
        _format_node(node.node, depth + 1, lines)
        lines.append(f"{pad}}},")
    else:
        lines.append(f"{pad}{'Sequence' if isinstance(node, SequenceNode) else 'Parallel'} {{")
        for child in node.nodes:
            _format_node(child, depth + 1, lines)
        lines.append(f"{pad}}},")


def _format_required(
    selections: tuple[RequiredSelection, ...], depth: int, lines: list[str]
) -> None:
    pad = "  " * depth
    for selection in selections:
        if isinstance(selection, RequiredFragment):
            alias = f" (as {selection.entity_type})" if selection.entity_type else ""
            lines.append(f"{pad}... on {selection.type_condition}{alias} {{")
            _format_required(selection.selections, depth + 1, lines)
            lines.append(f"{pad}}}")
        elif selection.selections:
            lines.append(f"{pad}{selection.name} {{")
            _format_required(selection.selections, depth + 1, lines)
            lines.append(f"{pad}}}")
        else:
            lines.append(f"{pad}{selection.name}")
