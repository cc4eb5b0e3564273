"""Satisfiability: every query of the API schema can be resolved by the subgraphs.

In: the parsed subgraphs and the merged supergraph (after the merge succeeded).
Out: ``SATISFIABILITY_ERROR``s worded as ``@apollo/composition``'s
``validateGraphComposition`` words them: the witness query that cannot be
satisfied, then, per subgraph, why each path stops there.

The traversal is Apollo's ``ValidationTraversal``: a depth-first walk of the
API schema from each root (objects expose fields, abstract types downcast to
their runtime types), carrying every position the subgraphs could be in;
a step fails when no position can take it, even after ``@key`` jumps. A type
already validated with a subset of the current positions is not walked again.
Not modelled: progressive ``@override`` labels (both sides are assumed
reachable), the per-subgraph split of shareable top-level mutations, the
runtime-type check on shareable abstract fields, and ``@fromContext``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from router.composition.errors import CompositionError
from router.composition.path_advancing import DeadEnd, PathAdvancer, Transition
from router.composition.query_graph import FederatedGraph, Position
from router.composition.subgraph_sdl import Subgraph
from router.composition.supergraph import UNSET, FieldDef, Supergraph


@dataclass(frozen=True, slots=True)
class _Step:
    """One supergraph edge of the witness: a field (with its definition) or a downcast."""

    transition: Transition
    definition: FieldDef | None
    tail: str


@dataclass(slots=True)
class _State:
    kind: str
    type: str
    steps: tuple[_Step, ...]
    positions: list[Position]


def validate_satisfiability(
    subgraphs: list[Subgraph], merged: Supergraph, *, inaccessible: str | None
) -> list[CompositionError]:
    """``SATISFIABILITY_ERROR``s for API queries the subgraphs cannot resolve."""
    return _Traversal(subgraphs, merged, inaccessible).run()


class _Traversal:
    def __init__(self, subgraphs: list[Subgraph], merged: Supergraph, inaccessible: str | None):
        self.graph = FederatedGraph(subgraphs, merged)
        self.advancer = PathAdvancer(self.graph)
        self.merged = merged
        self.inaccessible = inaccessible
        self.errors: list[CompositionError] = []
        self.visits: dict[str, list[frozenset[tuple[int, str]]]] = {}

    def run(self) -> list[CompositionError]:
        stack: list[_State] = []
        for kind in ("query", "mutation", "subscription"):
            root = self.merged.roots.get(kind)
            if root is None:
                continue
            positions = [
                Position(idx, s.roots[kind], top_level=True)
                for idx, s in enumerate(self.graph.subgraphs)
                if kind in s.roots
            ]
            stack.append(_State(kind, root, (), positions))
        while stack:
            state = stack.pop()
            if self._already_validated(state):
                continue
            for step in self._edges(state.type):
                new_state = self._transition(state, step)
                if new_state is not None and not self._is_terminal(new_state.type):
                    stack.append(new_state)
        return self.errors

    # -- the API schema as a graph ----------------------------------------------------

    def _accessible(self, directives: list[Any]) -> bool:
        return self.inaccessible is None or all(d.name != self.inaccessible for d in directives)

    def _edges(self, type_name: str) -> list[_Step]:
        t = self.merged.types[type_name]
        if t.kind == "object":
            return [
                _Step(Transition(type_name, f.name), f, _base(f.type))
                for f in t.fields.values()
                if self._accessible(f.directives) and self._accessible_type(_base(f.type))
            ]
        if t.kind in ("interface", "union"):
            return [
                _Step(Transition(runtime, None, type_name), None, runtime)
                for runtime in self.graph.supergraph_runtime_types(type_name)
                if self._accessible_type(runtime)
            ]
        return []

    def _accessible_type(self, name: str) -> bool:
        t = self.merged.types.get(name)
        return t is None or self._accessible(t.directives)

    def _is_terminal(self, type_name: str) -> bool:
        return not self._edges(type_name) if type_name in self.merged.types else True

    def _already_validated(self, state: _State) -> bool:
        current = frozenset(p.vertex for p in state.positions)
        previous = self.visits.setdefault(state.type, [])
        if any(current >= seen for seen in previous):
            return True
        previous.append(current)
        return False

    # -- one supergraph edge ------------------------------------------------------------

    def _transition(self, state: _State, step: _Step) -> _State | None:
        reached: list[Position] = []
        dead_ends: list[DeadEnd] = []
        for position in state.positions:
            options = self.advancer.advance(position, step.transition, step.tail)
            if options and isinstance(options[0], DeadEnd):
                dead_ends += [d for d in options if isinstance(d, DeadEnd)]
                continue
            if not options:
                return None  # this branch provably has no result
            reached += [p for p in options if isinstance(p, Position)]
        steps = (*state.steps, step)
        if not reached:
            self.errors.append(self._error(state.kind, steps, dead_ends))
            return None
        return _State(state.kind, step.tail, steps, reached)

    # -- the error ------------------------------------------------------------------------

    def _error(
        self, kind: str, steps: tuple[_Step, ...], dead_ends: list[DeadEnd]
    ) -> CompositionError:
        operation = ("" if kind == "query" else f"{kind} ") + self._witness(steps, 0, "")
        return CompositionError(
            "SATISFIABILITY_ERROR",
            f"The following supergraph API query:\n{operation}\n"
            "cannot be satisfied by the subgraphs because:\n" + self._reasons(dead_ends),
        )

    def _witness(self, steps: tuple[_Step, ...], index: int, indent: str) -> str:
        inner = indent + "  "
        if index >= len(steps):
            return "{\n" + inner + "...\n" + indent + "}"
        step = steps[index]
        if step.definition is None:
            line = f"... on {step.transition.parent}"
        else:
            line = step.definition.name + self._witness_arguments(step.definition)
        last = index == len(steps) - 1
        if not (last and self.graph.is_leaf(None, step.tail)):
            line += " " + self._witness(steps, index + 1, inner)
        return "{\n" + inner + line + "\n" + indent + "}"

    def _witness_arguments(self, definition: FieldDef) -> str:
        if not definition.args:
            return ""
        args = [f"{a.name}: {self._witness_value(a.type)}" for a in definition.args.values()]
        return "(" + ", ".join(args) + ")"

    def _witness_value(self, type_ref: str) -> str:
        if type_ref.endswith("!"):
            return self._witness_value(type_ref[:-1])
        if type_ref.startswith("["):
            return "[]"
        scalars = {"Int": "0", "Float": "3.14", "Boolean": "true"}
        if type_ref in scalars:
            return scalars[type_ref]
        if type_ref in ("String", "ID"):
            return json.dumps("A string value" if type_ref == "String" else "<any id>")
        t = self.merged.types.get(type_ref)
        if t is not None and t.kind == "enum":
            values = [v.name for v in t.values.values() if self._accessible(v.directives)]
            return values[0]
        if t is not None and t.kind == "input":
            fields = [
                f"{f.name}: {self._witness_value(f.type)}"
                for f in t.input_fields.values()
                if f.type.endswith("!") and f.default is UNSET
            ]
            return "{" + ", ".join(fields) + "}"
        return json.dumps("<some value>")

    def _reasons(self, dead_ends: list[DeadEnd]) -> str:
        by_subgraph: dict[int, list[str]] = {}
        for dead_end in dead_ends:
            by_subgraph.setdefault(dead_end.source, []).append(dead_end.details)
        lines: list[str] = []
        for source, details in by_subgraph.items():
            line = f'- from subgraph "{self.graph.names[source]}":'
            if len(details) == 1:
                line += f" {details[0]}."
            else:
                line += "".join(f"\n  - {d}." for d in dict.fromkeys(details))
            lines.append(line)
        return "\n".join(lines)


def _base(type_ref: str) -> str:
    return type_ref.replace("[", "").replace("]", "").replace("!", "")
