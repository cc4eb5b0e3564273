"""Every differential case, grouped by feature (one module per group)."""

from __future__ import annotations

from tests.differential.cases import (
    abstract,
    combinations,
    edges,
    entities,
    failures,
    operations,
    ownership,
    requires,
)
from tests.differential.harness import Case

ALL_CASES: list[Case] = [
    *entities.CASES,
    *requires.CASES,
    *ownership.CASES,
    *abstract.CASES,
    *failures.CASES,
    *operations.CASES,
    *edges.CASES,
    *combinations.CASES,
]
