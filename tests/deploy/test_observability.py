"""Alert rules (promtool), their unit tests, scrape configs and the Grafana dashboard."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import yaml

from tests.deploy.conftest import METRICS, ROOT, require_binary

OBS = ROOT / "deploy" / "observability"
PROMQL_WORDS = {
    "sum", "max", "min", "avg", "by", "without", "rate", "irate", "increase", "histogram_quantile",
    "topk", "bottomk", "or", "and", "unless", "vector", "clamp_min", "le", "on", "ignoring",
    "count", "absent",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """Identifiers of a PromQL expression that are metric names (not functions, labels, values)."""
    stripped = re.sub(r'"[^"]*"', "", expr)  # label values
    stripped = re.sub(r"\{[^}]*\}", "", stripped)  # label matchers
    stripped = re.sub(r"\[[^\]]*\]", "", stripped)  # ranges
    stripped = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", stripped)  # grouping labels
    return {w for w in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", stripped)} - PROMQL_WORDS


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = require_binary("promtool", "prometheus")
    return subprocess.run(
        [binary, *args], cwd=OBS, capture_output=True, text=True, timeout=60, check=False
    )


def test_promtool_check_rules():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_alert_unit_tests():
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_prometheus_config(tmp_path):
    text = (OBS / "prometheus.yml").read_text(encoding="utf-8")
    (tmp_path / "prometheus.yml").write_text(
        text.replace("/etc/prometheus/alerts.yml", str(OBS / "alerts.yml"))
    )
    binary = require_binary("promtool", "prometheus")
    result = subprocess.run(
        [binary, "check", "config", str(tmp_path / "prometheus.yml")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    jobs = {job["job_name"] for job in yaml.safe_load(text)["scrape_configs"]}
    kube = yaml.safe_load((OBS / "kubernetes-scrape.yml").read_text(encoding="utf-8"))
    assert (
        jobs
        == {job["job_name"] for job in kube["scrape_configs"]}
        == {
            "pizza-router",
            "pizza-subgraphs",
        }
    )


def alert_rules() -> list[dict]:
    groups = yaml.safe_load((OBS / "alerts.yml").read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_alerts_cover_the_issue_and_use_only_contract_metrics():
    rules = alert_rules()
    names = {rule["alert"] for rule in rules}
    for required in (
        "PizzaRouterHighErrorRate",
        "PizzaRouterHighLatencyP99",
        "PizzaOutboxLag",
        "PizzaCircuitBreakerOpen",
        "PizzaSubgraphDown",
    ):
        assert required in names
    for rule in rules:
        assert metric_names(rule["expr"]) <= METRICS, (rule["alert"], metric_names(rule["expr"]))
        assert rule["labels"]["severity"] in {"page", "warning"}
        assert {"summary", "description", "runbook_url"} <= set(rule["annotations"])
    tested = yaml.safe_load((OBS / "alerts.test.yml").read_text(encoding="utf-8"))
    fired = {
        case["alertname"]
        for test in tested["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert fired == names, f"alerts without a firing unit test: {names - fired}"


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads((OBS / "grafana-dashboard.json").read_text(encoding="utf-8"))


def test_dashboard_loads_and_queries_contract_metrics(dashboard):
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    used: set[str] = set()
    for panel in panels:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        for target in panel["targets"]:
            names = metric_names(target["expr"].replace("$__rate_interval", "5m"))
            assert names <= METRICS, (panel["title"], names - METRICS)
            used |= names
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24
    assert used == METRICS, f"metrics without a panel: {METRICS - used}"
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert variables == {"datasource", "subgraph"}


def test_metrics_contract_is_documented():
    doc = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    for metric in METRICS - {"up"}:
        assert f"`{metric.removesuffix('_bucket')}" in doc, metric
