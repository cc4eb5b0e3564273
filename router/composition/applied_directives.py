"""Applied directives copied into the supergraph (Apollo's ``mergeAppliedDirective``).

In: the applications of a directive on one element across subgraphs.
Out: ``@inaccessible`` merged at once; other composed or custom directives
recorded and merged after all types (so ``@inaccessible`` is known first):
repeatable ones deduplicated, others by most frequent arguments, except
``@requiresScopes``/``@policy`` (DNF conjunction) and ``@cost`` (max).
Interface fields also inherit authorization from their implementations.
"""

from __future__ import annotations

import json
from typing import Any

from router.composition.merge_state import MergeState, Sources
from router.composition.specs import ACCESS_CONTROL
from router.composition.subgraph_sdl import Directive
from router.composition.supergraph import (
    AppliedDirective,
)
from router.composition.values import values_equal


def record_applied(
    state: MergeState,
    sources: Sources,
    dest: Any,
    *,
    access_first: bool = False,
    coordinate: str | None = None,
) -> None:
    """Merge ``@inaccessible`` now; queue the other applied directives of ``dest``."""
    names: list[str] = []
    for idx, source in enumerate(sources):
        if source is None:
            continue
        for d in source.directives:
            if _is_merged_directive(state, idx, d) and d.name not in names:
                names.append(d.name)
    inaccessible = state.composed.get("inaccessible")
    if inaccessible in names:
        merge_applied(state, inaccessible, sources, dest)
        names.remove(inaccessible)
    if access_first:
        for canonical in ACCESS_CONTROL:
            name = state.composed.get(canonical)
            if name is None:
                continue
            extra = (
                _access_control_sources(state, dest, canonical, coordinate) if coordinate else []
            )
            if name in names or extra:
                state.to_merge.append(([name], sources + extra, dest))
            if name in names:
                names.remove(name)
    state.to_merge.append((names, sources, dest))


def _access_control_sources(
    state: MergeState, dest: Any, canonical: str, coordinate: str
) -> list[Any]:
    """Interface fields inherit authorization applied on their implementations' fields."""
    parent, _, field_name = coordinate.partition(".")
    itf = state.merged.types.get(parent)
    if itf is None or itf.kind != "interface":
        return []
    extra: list[Any] = []
    for idx, s in enumerate(state.subgraphs):
        for t in s.types.values():
            if t.kind != "object" or field_name not in t.fields:
                continue
            merged_t = state.merged.types.get(t.name)
            if merged_t is None or parent not in merged_t.interfaces:
                continue
            f = t.fields[field_name]
            if s.has(f.directives, canonical) and not state.meta[idx].is_external(f):
                extra.append(f)
    return extra


def _is_merged_directive(state: MergeState, idx: int, d: Directive) -> bool:
    canonical = state.subgraphs[idx].canonical(d)
    if canonical is not None:
        return canonical in state.composed and state.composed[canonical] == d.name
    if d.name in ("specifiedBy", "deprecated", "oneOf"):
        return True
    definition = state.subgraphs[idx].directive_definitions.get(d.name)
    return definition is not None and d.name in state.merged.directives


def merge_all_applied_directives(state: MergeState) -> None:
    """Merge the queued applied directives (after every type is merged)."""
    for names, sources, dest in state.to_merge:
        for name in names:
            merge_applied(state, name, sources, dest)
    state.to_merge = []


def merge_applied(state: MergeState, name: str, sources: Sources, dest: Any) -> None:
    """Copy directive ``name`` from ``sources`` onto ``dest`` as Apollo merges it."""
    per_source = [
        [d for d in source.directives if d.name == name] for source in sources if source is not None
    ]
    per_source = [ds for ds in per_source if ds]
    if not per_source:
        return
    definition = state.merged.directives.get(name)
    repeatable = definition.repeatable if definition else name == "tag"
    if repeatable:
        applied: list[Directive] = []
        for ds in per_source:
            for d in ds:
                if not any(values_equal(d.args, a.args) for a in applied):
                    applied.append(d)
        dest.directives += [AppliedDirective(name, dict(d.args)) for d in applied]
        return
    distinct: list[Directive] = []
    counts: list[int] = []
    for ds in per_source:
        d = ds[0]
        for i, existing in enumerate(distinct):
            if values_equal(existing.args, d.args):
                counts[i] += 1
                break
        else:
            distinct.append(d)
            counts.append(1)
    if len(distinct) == 1:
        dest.directives.append(AppliedDirective(name, dict(distinct[0].args)))
        return
    canonical = state.supergraph_to_canonical.get(name)
    if canonical in ("requiresScopes", "policy"):
        arg = "scopes" if canonical == "requiresScopes" else "policies"
        merged = dnf_conjunction([list(d.args.get(arg, [])) for d in distinct])
        dest.directives.append(AppliedDirective(name, {arg: merged}))
    elif canonical == "cost":
        dest.directives.append(
            AppliedDirective(name, {"weight": max(d.args.get("weight", 0) for d in distinct)})
        )
    else:
        dest.directives.append(
            AppliedDirective(name, dict(distinct[counts.index(max(counts))].args))
        )


def dnf_conjunction(values: list[list[list[str]]]) -> list[list[str]]:
    """Apollo's DNF conjunction for ``@requiresScopes``/``@policy`` arguments."""
    if not values:
        return []
    normalized: list[list[list[str]]] = []
    seen: set[str] = set()
    for value in values:
        copy = [sorted(inner) for inner in value] or [[]]
        copy.sort(key=lambda inner: _json(inner))
        key = _json(copy)
        if key not in seen:
            seen.add(key)
            normalized.append(copy)
    result = normalized[0]
    for current in normalized[1:]:
        accumulator: list[list[str]] = []
        keys: set[str] = set()
        for acc in result:
            for element in current:
                candidate = sorted(acc + [e for e in element if e not in acc])
                key = _json(candidate)
                if key not in keys:
                    keys.add(key)
                    accumulator.append(candidate)
        accumulator.sort(key=len)
        result = []
        for candidate in accumulator:
            if not any(all(e in candidate for e in r) for r in result):
                result.append(candidate)
    return result


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
