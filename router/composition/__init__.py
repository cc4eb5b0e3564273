"""Apollo Federation 2 supergraph composition in Python.

In: subgraph definitions (name, routing URL, SDL), or a Rover ``supergraph.yaml``.
Out: the supergraph SDL as ``@apollo/composition`` 2.14 prints it, or
Apollo-coded `CompositionError`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from router.composition.errors import CompositionError, CompositionFailed
from router.composition.merge import Merger
from router.composition.printer import print_supergraph
from router.composition.satisfiability import validate_satisfiability
from router.composition.subgraph_sdl import Subgraph, parse_subgraph
from router.composition.validate import validate_subgraph


@dataclass(frozen=True, slots=True)
class SubgraphDefinition:
    """One subgraph to compose."""

    name: str
    url: str
    sdl: str


@dataclass(slots=True)
class CompositionResult:
    """Either ``supergraph_sdl`` or a non-empty ``errors`` list."""

    supergraph_sdl: str | None
    errors: list[CompositionError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether composition succeeded."""
        return self.supergraph_sdl is not None and not self.errors


def compose(subgraphs: list[SubgraphDefinition]) -> CompositionResult:
    """Compose subgraphs into a supergraph (parse, validate each, merge, check satisfiability, print)."""
    parsed: list[Subgraph] = []
    errors: list[CompositionError] = []
    for definition in subgraphs:
        result = parse_subgraph(definition.name, definition.url, definition.sdl)
        if isinstance(result, CompositionError):
            errors.append(result)
        else:
            parsed.append(result)
    if errors:
        return CompositionResult(None, errors)
    for subgraph in parsed:
        errors += validate_subgraph(subgraph)
    if errors:
        return CompositionResult(None, errors)
    parsed.sort(key=lambda s: s.name)
    merger = Merger(parsed)
    merged = merger.merge()
    if isinstance(merged, list):
        return CompositionResult(None, merged)
    errors = validate_satisfiability(
        parsed, merged, inaccessible=merger.state.composed.get("inaccessible")
    )
    if errors:
        return CompositionResult(None, errors)
    return CompositionResult(print_supergraph(merged))


def compose_from_config(path: str) -> str:
    """Compose the subgraphs a Rover ``supergraph.yaml`` lists; raise `CompositionFailed` on errors."""
    from router.composition.config import load_subgraphs

    result = compose(load_subgraphs(path))
    if result.supergraph_sdl is None:
        raise CompositionFailed(result.errors)
    return result.supergraph_sdl


__all__ = [
    "CompositionError",
    "CompositionFailed",
    "CompositionResult",
    "SubgraphDefinition",
    "compose",
    "compose_from_config",
]
