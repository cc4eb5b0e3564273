"""The GitHub Actions workflow mirrors .ci/run; static security checks pass."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def test_workflow_mirrors_ci_run(workflow):
    ci_run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test = workflow["jobs"]["test"]
    assert {"postgres", "redis"} <= set(test["services"])
    assert "5432:5432" in test["services"]["postgres"]["ports"]
    assert "6379:6379" in test["services"]["redis"]["ports"]
    script = "\n".join(step.get("run", "") for step in test["steps"])
    for command in ("make lint", "make test"):
        assert command in ci_run and command in script
    for package in ("docker-compose", "prometheus"):
        assert package in ci_run and package in script


def test_workflow_audits_dependencies_and_code(workflow):
    script = "\n".join(step.get("run", "") for step in workflow["jobs"]["security"]["steps"])
    assert "pip-audit" in script and "bandit" in script
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for tool in ("pip-audit==", "bandit==", "kubernetes-validate=="):
        assert tool in pyproject, f"{tool} pinned in [project.optional-dependencies].dev"


def test_bandit_finds_nothing_of_medium_severity():
    bandit = Path(sys.executable).parent / "bandit"
    if not bandit.exists() and shutil.which("bandit") is None:
        pytest.skip("bandit not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        [str(bandit) if bandit.exists() else "bandit", "-q", "-r", "router", "shared", "subgraphs",
         "--severity-level", "medium", "--confidence-level", "medium"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
