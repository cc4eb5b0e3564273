"""Composition errors.

In: an Apollo error code and a message naming the subgraph(s) and coordinate.
Out: `CompositionError` values collected by the merger, and `CompositionFailed`
raised by `compose_from_config` when composition does not succeed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CompositionError:
    """One composition error, with Apollo's code (e.g. ``INVALID_FIELD_SHARING``)."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class CompositionFailed(Exception):
    """Raised when the subgraphs do not compose into a supergraph."""

    def __init__(self, errors: list[CompositionError]) -> None:
        self.errors = list(errors)
        lines = "\n".join(f"  - {error}" for error in self.errors)
        super().__init__(f"Composition failed with {len(self.errors)} error(s):\n{lines}")


def subgraph_error(code: str, subgraph: str, message: str) -> CompositionError:
    """Build an error prefixed by ``[subgraph]`` as Apollo does for subgraph-local errors."""
    return CompositionError(code, f"[{subgraph}] {message}")
