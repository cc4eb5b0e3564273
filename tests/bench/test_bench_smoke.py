"""Smoke run of ``make bench``: every gateway answers every workload correctly, zero errors.

A few seconds of tiny load per gateway (``python -m bench.run --quick``); no timing is asserted.
Marked ``slow`` (``make test`` skips it): ``pytest -m slow tests/bench``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.gateways import GATEWAY_NAMES, js_installed
from bench.load import wrk_available
from bench.run import report, run

pytestmark = pytest.mark.slow

# Deduplication variants run workload (a) only.
BASE_GATEWAYS = {name for name in GATEWAY_NAMES if "+" not in name}


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory: pytest.TempPathFactory):
    if not wrk_available() or shutil.which("node") is None or not js_installed():
        pytest.skip("needs wrk, node and bench/js/node_modules (make bench installs them)")
    log_dir: Path = tmp_path_factory.mktemp("bench-logs")
    return run(["--quick", "--log-dir", str(log_dir)])


def test_every_gateway_answers_the_gateways_benchmark_correctly(quick_results) -> None:
    rows = {row.gateway: row for row in quick_results.gateways_benchmark}
    assert set(rows) == set(GATEWAY_NAMES)
    for row in rows.values():
        assert row.correct, row.problem
        assert row.load is not None and row.load.requests > 0 and row.load.errors == 0


def test_every_gateway_answers_the_one_subgraph_query_correctly(quick_results) -> None:
    rows = {row.gateway: row for row in quick_results.latency}
    assert set(rows) == BASE_GATEWAYS
    for row in rows.values():
        assert row.correct, row.problem
        assert row.load is not None and row.load.requests > 0 and row.load.errors == 0


def test_every_gateway_answers_the_pizza_read_correctly(quick_results) -> None:
    rows = {row.gateway: row for row in quick_results.pizza}
    assert set(rows) == BASE_GATEWAYS
    for row in rows.values():
        assert row.correct, row.problem
        assert row.load is not None and row.load.requests > 0 and row.load.errors == 0


def test_the_subgraphs_are_measured_directly(quick_results) -> None:
    assert quick_results.subgraph_direct is not None
    assert quick_results.subgraph_direct.errors == 0


def test_the_report_has_every_table(quick_results) -> None:
    text = report(quick_results)
    assert "(a) gateways benchmark" in text and "(b) pizza" in text and "(c) added latency" in text
    assert "Every gateway answered correctly with zero errors." in text
