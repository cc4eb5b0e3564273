"""What every merge step shares: the subgraphs, the supergraph being built, errors.

In: parsed `Subgraph`s sorted by name.
Out: a `MergeState` the merge steps read and extend (``merged``, ``errors``,
the ``join__Graph`` value of each subgraph, the composed spec directives and
the applied directives still to copy), `Sources` lists (one slot per
subgraph) and Apollo's description merging.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from router.composition.errors import CompositionError
from router.composition.metadata import FederationMetadata
from router.composition.specs import COMPOSED_BY_NAME, join_version
from router.composition.subgraph_sdl import Subgraph
from router.composition.supergraph import Supergraph

Sources = list[Any]  # one slot per subgraph, None where absent


@dataclass
class FieldContext:
    """Override bookkeeping for one field (Apollo's ``FieldMergeContext``)."""

    used_overridden: set[int] = field(default_factory=set)
    unused_overridden: set[int] = field(default_factory=set)
    labels: dict[int, str] = field(default_factory=dict)


class MergeState:
    """The merge in progress; each merge step module reads and extends it."""

    def __init__(self, subgraphs: list[Subgraph]) -> None:
        self.subgraphs = subgraphs
        self.names = [s.name for s in subgraphs]
        self.meta = [FederationMetadata.of(s) for s in subgraphs]
        self.errors: list[CompositionError] = []
        self.merged = Supergraph()
        self.fed_version = max((s.federation_version for s in subgraphs), default=(2, 0))
        self.join_version = join_version(self.fed_version)
        self.graph: list[str] = []
        self.composed: dict[str, str] = {}  # canonical directive -> name in supergraph
        self.supergraph_to_canonical: dict[str, str] = {}
        self.to_merge: list[tuple[list[str], Sources, Any]] = []
        self.enum_usages: dict[str, str] = {}
        self.override_fields = {
            f"{t.name}.{f.name}"
            for s in subgraphs
            for t in s.types.values()
            for f in t.fields.values()
            if s.has(f.directives, "override")
        }

    def is_spec_type(self, name: str) -> bool:
        """A type brought by a composed spec (``policy__Policy``...), not by a subgraph."""
        return any(name.startswith(f"{COMPOSED_BY_NAME[c].spec}__") for c in self.composed)

    def sources(self, name: str, kind: str) -> Sources:
        """Type ``name`` in each subgraph where it has ``kind`` (interface objects count as interfaces)."""
        out: Sources = []
        for s, meta in zip(self.subgraphs, self.meta, strict=True):
            t = s.types.get(name)
            actual = "interface" if meta.is_interface_object(t) else (t.kind if t else None)
            out.append(t if t is not None and actual == kind else None)
        return out


def merge_description(sources: Sources) -> str | None:
    """Apollo's ``mergeDescription``: the most frequent non-empty description."""
    descriptions: list[str] = []
    counts: list[int] = []
    for source in sources:
        if source is None or source.description is None:
            continue
        if source.description in descriptions:
            counts[descriptions.index(source.description)] += 1
        else:
            descriptions.append(source.description)
            counts.append(-(2**53) if source.description == "" else 1)
    if not descriptions:
        return None
    non_empty = [d for d in descriptions if d != ""]
    if len(descriptions) == 1:
        return descriptions[0]
    if len(non_empty) == 1:
        return non_empty[0]
    return descriptions[counts.index(max(counts))]
