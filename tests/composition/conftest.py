"""Shared fixtures for composition tests: fixture loading and batched Apollo references."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from router.composition import SubgraphDefinition

FIXTURES = Path(__file__).parent / "fixtures"
ERROR_FIXTURES = FIXTURES / "errors"
BATCH_SCRIPT = Path(__file__).parent / "compose_batch.mjs"
NODE_MODULES = Path(__file__).parents[1] / "js" / "node_modules" / "@apollo" / "composition"


def load_case(directory: Path) -> list[SubgraphDefinition]:
    """One subgraph per ``<name>.graphql`` file, routed at ``http://<name>/graphql``."""
    return [
        SubgraphDefinition(
            name=path.stem, url=f"http://{path.stem}/graphql", sdl=path.read_text(encoding="utf-8")
        )
        for path in sorted(directory.glob("*.graphql"))
    ]


def success_cases() -> list[str]:
    """Fixture directories expected to compose."""
    return sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and p.name != "errors")


def error_cases() -> list[str]:
    """Fixture directories expected to fail composition."""
    return sorted(p.name for p in ERROR_FIXTURES.iterdir() if p.is_dir())


@pytest.fixture(scope="session")
def apollo_results() -> dict[str, Any]:
    """Compose every fixture with ``@apollo/composition`` in a single node process."""
    if shutil.which("node") is None or not NODE_MODULES.exists():
        pytest.skip("node or tests/js/node_modules missing (run make)")
    cases = {
        name: [{"name": s.name, "url": s.url, "sdl": s.sdl} for s in load_case(directory / name)]
        for directory, names in ((FIXTURES, success_cases()), (ERROR_FIXTURES, error_cases()))
        for name in names
    }
    completed = subprocess.run(
        ["node", str(BATCH_SCRIPT)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(completed.stdout)
