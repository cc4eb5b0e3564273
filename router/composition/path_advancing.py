"""Advancing subgraph paths: direct edges, key jumps and condition resolution.

In: a `FederatedGraph` and positions in it.
Out: Apollo's ``advancePathWithTransition`` for validation: the positions a
supergraph field or downcast leads to from one subgraph position (directly, or
after ``@key`` jumps to other subgraphs), or the reasons it cannot
(``Unadvanceable`` details, worded as Apollo words them); and
``simpleValidationConditionResolver``: whether ``@key``/``@requires``
conditions can be fetched from a position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from router.composition.naming import subgraph_names
from router.composition.query_graph import (
    FederatedGraph,
    KeyEdge,
    Position,
    Selection,
    parse_field_set,
    print_selections,
)

Excluded = frozenset[tuple[str, str]]
_NOTHING: Excluded = frozenset()
_TYPENAME = (Selection("__typename"),)


@dataclass(frozen=True, slots=True)
class DeadEnd:
    """Why one subgraph path cannot take a transition (Apollo's ``Unadvanceable``)."""

    source: int
    dest: int
    details: str


@dataclass(frozen=True, slots=True)
class Transition:
    """A supergraph edge: collect ``field`` of ``parent``, or downcast to ``parent``."""

    parent: str
    field: str | None = None
    source_type: str | None = None  # for downcasts: the abstract type cast from

    @property
    def coordinate(self) -> str:
        """``Type.field``."""
        return f"{self.parent}.{self.field}"


@dataclass
class _Indirect:
    positions: list[Position] = field(default_factory=list)
    dead_ends: list[DeadEnd] = field(default_factory=list)


class PathAdvancer:
    """Advances positions of the federated graph; caches key jumps and conditions."""

    def __init__(self, graph: FederatedGraph) -> None:
        self.graph = graph
        self._indirect: dict[tuple[Position, Excluded], _Indirect] = {}
        self._conditions: dict[tuple[Position, tuple[Selection, ...], Excluded], bool] = {}

    # -- validation transitions ------------------------------------------------------

    def advance(
        self, at: Position, transition: Transition, target: str
    ) -> list[Position] | list[DeadEnd]:
        """Positions after ``transition`` (empty: no possible result), or why there are none.

        A non-empty list of `DeadEnd` means the transition is impossible from ``at``.
        """
        g = self.graph
        if transition.field is None:
            source_is_itf = g.merged.types[transition.source_type or ""].kind == "interface"
            tail = g.type_in(at.sub, at.type)
            object_under_interface = source_is_itf and tail is not None and tail.kind == "object"
            if not object_under_interface and target not in g.runtime_types_in(at.sub, at.type):
                return []
        direct = self._direct(at, transition)
        options: list[Position] = []
        dead: list[DeadEnd] = []
        if isinstance(direct, DeadEnd):
            dead.append(direct)
        else:
            if direct and g.is_leaf(None, target):
                return direct
            options += direct
        indirect = self.indirect(at, _NOTHING)
        for via in indirect.positions:
            result = self._direct(via, transition)
            if isinstance(result, DeadEnd):
                dead.append(result)
            else:
                options += result
        if options:
            return options
        dead += indirect.dead_ends
        if transition.field is not None:
            dead += self._unreachable(at, transition, {d.dest for d in dead})
        return dead

    def _direct(self, at: Position, transition: Transition) -> list[Position] | DeadEnd:
        g = self.graph
        if transition.field is None:
            return self._direct_downcast(at, transition.parent)
        if transition.parent != at.type and not g.is_interface_object(at.sub, at.type):
            cast = g.downcast(at, transition.parent)
            if cast is not None:
                at = cast
        edge = g.field_edge(at, transition.field)
        if edge is None:
            return DeadEnd(at.sub, at.sub, self._no_field_details(at, transition))
        if edge.requires is not None:
            excluded = frozenset({(at.type, print_selections(edge.requires))})
            if not self.can_resolve(at, edge.requires, excluded):
                details = f'cannot satisfy @require conditions on field "{transition.coordinate}"'
                return DeadEnd(at.sub, at.sub, details + self._external_key_warning(at))
            if not at.via_key and not g.has_locally_satisfiable_key(at.sub, at.type):
                return DeadEnd(
                    at.sub,
                    at.sub,
                    f'@require condition on field "{transition.coordinate}" can be satisfied but '
                    f'missing usable key on "{at.type}" in subgraph "{g.names[at.sub]}" to resume query',
                )
        return [edge.tail]

    def _direct_downcast(self, at: Position, target: str) -> list[Position] | DeadEnd:
        g = self.graph
        if target == at.type:
            return [at]
        if g.is_interface_object(at.sub, at.type):
            if target not in g.supergraph_runtime_types(at.type):
                return DeadEnd(at.sub, at.sub, f'cannot find type "{target}"')
            if self.can_resolve(at, _TYPENAME, frozenset({(at.type, "__typename")})):
                return [Position(at.sub, at.type, at.provided)]
            return DeadEnd(
                at.sub,
                at.sub,
                "no subgraph can be reached to resolve the implementation type of @interfaceObject "
                f'type "{at.type}"',
            )
        cast = g.downcast(at, target)
        if cast is None:
            return DeadEnd(at.sub, at.sub, f'cannot find type "{target}"')
        return [Position(cast.sub, cast.type, cast.provided)]

    def _no_field_details(self, at: Position, transition: Transition) -> str:
        g = self.graph
        local = g.type_in(at.sub, transition.parent)
        if local is None and at.type != transition.parent:
            return (
                f'cannot find implementation type "{transition.parent}" (supergraph interface '
                f'"{at.type}" is declared with @interfaceObject in "{g.names[at.sub]}")'
            )
        owner = g.type_in(at.sub, at.type)
        f = owner.fields.get(transition.field or "") if owner else None
        used = g.overridden.get((at.sub, transition.coordinate))
        if f is not None and used:
            overriding = [
                s.name
                for s in g.subgraphs
                if (t := s.types.get(transition.parent))
                and (o := t.fields.get(transition.field or ""))
                and any(
                    d.args.get("from") == g.names[at.sub]
                    for d in s.applied(o.directives, "override")
                )
            ]
            return (
                f'field "{transition.coordinate}" is not resolvable because it is overridden by '
                f"{subgraph_names(overriding)}"
            )
        if f is not None and used is None:
            return f'field "{transition.coordinate}" is not resolvable because marked @external'
        return f'cannot find field "{transition.coordinate}"'

    def _external_key_warning(self, at: Position) -> str:
        g = self.graph
        s = g.subgraphs[at.sub]
        t = g.type_in(at.sub, at.type)
        if t is None:
            return ""
        marked: list[str] = []
        for key in s.applied(t.directives, "key"):
            for sel in parse_field_set(key.args.get("fields")) or ():
                f = t.fields.get(sel.name or "")
                if f is not None and s.has(f.directives, "external") and f.name not in marked:
                    marked.append(f.name)
        if not marked:
            return ""
        printed = ", ".join(f'"{name}"' for name in marked)
        plural = "field" if len(marked) == 1 else "fields"
        return f" (please ensure that this is not due to key {plural} {printed} being accidentally marked @external)"

    def _unreachable(self, at: Position, transition: Transition, dests: set[int]) -> list[DeadEnd]:
        """Subgraphs that have the field but cannot be jumped to (no resolvable key)."""
        g = self.graph
        out: list[DeadEnd] = []
        for idx, s in enumerate(g.subgraphs):
            if idx in dests or not g.field_exists(idx, transition.parent, transition.field or ""):
                continue
            where = f'cannot move to subgraph "{s.name}", which has field "{transition.coordinate}", because '
            tail = s.types.get(at.type)
            if tail is None:
                out.append(
                    DeadEnd(
                        at.sub,
                        idx,
                        where
                        + f'interface "{at.type}" is not defined in this subgraph (to jump to "{s.name}", '
                        f'it would need to both define interface "{at.type}" and have a @key on it)',
                    )
                )
                continue
            keys = s.applied(tail.directives, "key")
            if any(k.args.get("resolvable", True) is not False for k in keys):
                continue
            kind = "type" if at.type == transition.parent else "interface"
            explanation = (
                f'{kind} "{at.type}" has no @key defined in subgraph "{s.name}"'
                if not keys
                else f'none of the @key defined on {kind} "{at.type}" in subgraph "{s.name}" are '
                'resolvable (they are all declared with their "resolvable" argument set to false)'
            )
            out.append(DeadEnd(at.sub, idx, where + explanation))
        return out

    # -- key jumps ---------------------------------------------------------------------

    def indirect(self, at: Position, excluded: Excluded) -> _Indirect:
        """Positions reachable from ``at`` through key jumps only (one per subgraph, shortest)."""
        cache_key = (at, excluded)
        cached = self._indirect.get(cache_key)
        if cached is None:
            cached = self._indirect[cache_key] = self._compute_indirect(at, excluded)
        return cached

    def _compute_indirect(self, start: Position, excluded: Excluded) -> _Indirect:
        result = _Indirect()
        if start.top_level:
            return result
        g = self.graph
        best: dict[int, tuple[int, Position] | None] = {}
        to_try: list[tuple[int, Position, KeyEdge | None]] = [(0, start, None)]
        while to_try:
            index = min(range(len(to_try)), key=lambda i: to_try[i][0])
            size, current, previous = to_try.pop(index)
            edges = g.key_edges(current)
            following = [e for e in edges if not _trivial_followup(previous, e)]
            if not following:
                for e in edges:
                    if e.sub not in (current.sub, start.sub):
                        result.dead_ends.append(
                            DeadEnd(
                                current.sub,
                                e.sub,
                                f'ignoring moving to subgraph "{g.names[e.sub]}" using @key(fields: '
                                f'"{e.fields}") of "{current.type}" because there is a more direct path '
                                f"in {g.names[e.sub]} that avoids {g.names[current.sub]} altogether",
                            )
                        )
                continue
            for edge in following:
                if edge.sub == start.sub:
                    continue
                if edge.sub in best:
                    previous_best = best[edge.sub]
                    if previous_best is None or previous_best[0] <= size + 1:
                        continue
                if edge.conditions is not None:
                    if edge.condition_key in excluded:
                        continue
                    if not self.can_resolve(
                        current, edge.conditions, excluded | {edge.condition_key}
                    ):
                        result.dead_ends.append(
                            DeadEnd(
                                current.sub,
                                edge.sub,
                                f'cannot move to subgraph "{g.names[edge.sub]}" using @key(fields: '
                                f'"{edge.fields}") of "{current.type}", the key field(s) cannot be '
                                f'resolved from subgraph "{g.names[current.sub]}"',
                            )
                        )
                        continue
                moved = Position(edge.sub, edge.type, None, via_key=edge.conditions is not None)
                best[edge.sub] = (size + 1, moved)
                if edge.conditions is not None and edge.sub != current.sub:
                    to_try.append((size + 1, moved, edge))
        result.positions = [entry[1] for entry in best.values() if entry is not None]
        return result

    # -- conditions --------------------------------------------------------------------

    def can_resolve(
        self, at: Position, selections: tuple[Selection, ...], excluded: Excluded
    ) -> bool:
        """Whether every field of ``selections`` can be fetched starting at ``at``."""
        key = (at, selections, excluded)
        cached = self._conditions.get(key)
        if cached is None:
            self._conditions[key] = False  # a condition cannot depend on itself
            cached = self._conditions[key] = all(
                self._resolve_selection([at], sel, excluded) for sel in selections
            )
        return cached

    def _resolve_selection(
        self, options: list[Position], selection: Selection, excluded: Excluded
    ) -> bool:
        reached: list[Position] = []
        for at in options:
            reached += self._condition_step(at, selection, excluded)
        if not reached:
            return False
        return all(
            self._resolve_selection(reached, child, excluded) for child in selection.children
        )

    def _condition_step(
        self, at: Position, selection: Selection, excluded: Excluded
    ) -> list[Position]:
        g = self.graph
        if selection.name is None:
            if selection.on is None:
                return [at]
            cast = g.downcast(at, selection.on)
            return [cast] if cast is not None else []
        direct = self._condition_field(at, selection.name, excluded)
        if direct and not selection.children:
            return direct
        out = list(direct)
        for via in self.indirect(at, excluded).positions:
            out += self._condition_field(via, selection.name, excluded)
        return out

    def _condition_field(self, at: Position, name: str, excluded: Excluded) -> list[Position]:
        g = self.graph
        if name == "__typename":
            return [] if g.is_interface_object(at.sub, at.type) else [at]
        edge = g.field_edge(at, name)
        if edge is None:
            return []
        if edge.requires is not None:
            key = (at.type, print_selections(edge.requires))
            if key in excluded or not self.can_resolve(at, edge.requires, excluded | {key}):
                return []
        return [edge.tail]


def _trivial_followup(previous: KeyEdge | None, edge: KeyEdge) -> bool:
    """After a key jump, jumping again with the same key is never useful (Apollo prunes it)."""
    if previous is None:
        return False
    if previous.conditions is None:
        return edge.conditions is None
    return edge.conditions is not None and edge.fields == previous.fields
