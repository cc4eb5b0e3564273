"""Run schemathesis on one API operation with Hypothesis (bounded, deterministic).

Schemathesis' pytest plugin (``schemathesis.pytest.from_fixture``) does not run under
pytest 9 (it sets ``Function._nodeid``), and a schema loaded from a live server cannot be
parametrized at collection time; tests therefore drive each operation's strategy here.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import APIOperation, Case

MAX_EXAMPLES = 25
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: the failing case is reported as is
    print_blob=False,
)


def fuzz(
    operation: APIOperation,
    *,
    checks: list[Any],
    headers: dict[str, str] | None = None,
    max_examples: int = MAX_EXAMPLES,
) -> None:
    """Call ``operation`` with up to ``max_examples`` generated cases; raise on a failed check."""

    @given(case=operation.as_strategy())
    @settings(FUZZ_SETTINGS, max_examples=max_examples)
    def run(case: Case) -> None:
        case.call_and_validate(headers=headers, checks=checks, timeout=30)

    run()
