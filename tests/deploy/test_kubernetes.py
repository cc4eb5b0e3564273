"""deploy/kubernetes: kustomize base + overlays, validated offline against the Kubernetes schemas."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import kubernetes_validate
import pytest
import yaml

from shared.auth import AUDIENCE, ISSUER
from shared.settings import SUBGRAPH_NAMES
from tests.deploy.conftest import ROOT, SECRETS, SERVICES
from tests.deploy.kustomize import key, render

K8S = ROOT / "deploy" / "kubernetes"
TREES = ["base", "overlays/production", "overlays/apollo-router"]
DEPLOYABLE = ["overlays/production", "overlays/apollo-router"]
KUBERNETES_VERSIONS = ["1.30.0", "1.37.0"]
TRUST_JWKS = "PIZZA_TRUST_JWT_FROM_JWKS_URL"
USERS_JWKS = "http://users:4001/.well-known/jwks.json"
CREDENTIALS_IN_URL = re.compile(r"://[^/\s@]*:[^/\s@]*@")
SENSITIVE = re.compile(r"SECRET|PASSWORD|TOKEN|KEY|DATABASE_URL|REDIS_URL", re.I)


@pytest.fixture(scope="module", params=TREES)
def tree(request) -> tuple[str, list[dict[str, Any]]]:
    return request.param, render(K8S / request.param)


def objects_of(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def pod_specs(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{o['kind']}/{o['metadata']['name']}", o["spec"]["template"]["spec"])
        for o in objects
        if o["kind"] in ("Deployment", "Job")
    ]


# --- rendering and schemas ----------------------------------------------------------------


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
@pytest.mark.parametrize("path", TREES)
def test_renderer_agrees_with_kubectl_kustomize(path):
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S / path)], capture_output=True, text=True, check=True
    ).stdout
    theirs = {key(o): o for o in yaml.safe_load_all(out) if o}
    ours = {key(o): o for o in render(K8S / path)}
    assert ours == theirs


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_manifests_validate_strictly_against_kubernetes_schemas(tree, version):
    _, objects = tree
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)


def test_kubernetes_validate_cli_strict(tmp_path):
    """The same check through the command line the docs tell operators to run."""
    cli = Path(sys.executable).parent / "kubernetes-validate"
    command = [str(cli) if cli.exists() else "kubernetes-validate"]
    for path in DEPLOYABLE:
        rendered = tmp_path / (path.replace("/", "-") + ".yaml")
        rendered.write_text(yaml.safe_dump_all(render(K8S / path)), encoding="utf-8")
        result = subprocess.run(
            [*command, "--strict", "--quiet", rendered], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


# --- workloads ------------------------------------------------------------------------------


def test_every_service_has_deployment_service_hpa_pdb(tree):
    _, objects = tree
    deployments = objects_of(objects, "Deployment")
    assert set(deployments) == set(SERVICES)
    services = objects_of(objects, "Service")
    hpas = objects_of(objects, "HorizontalPodAutoscaler")
    pdbs = objects_of(objects, "PodDisruptionBudget")
    for name, deployment in deployments.items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
        hpa = hpas[name]
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert (
            hpa["spec"]["minReplicas"] >= 2
            and hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
        )
        pdb = pdbs[name]
        assert pdb["apiVersion"] == "policy/v1"
        assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"], "a drain must be possible"
        assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        service = services[name]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        assert [p["port"] for p in service["spec"]["ports"]] == [SERVICES[name]]


def test_containers_have_probes_resources_and_run_unprivileged(tree):
    _, objects = tree
    for where, spec in pod_specs(objects):
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] != 0, where
        assert security["seccompProfile"]["type"] == "RuntimeDefault", where
        assert spec["automountServiceAccountToken"] is False, where
        for container in spec.get("initContainers", []) + spec["containers"]:
            label = f"{where}/{container['name']}"
            resources = container["resources"]
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[part]), label
            c_security = container["securityContext"]
            assert c_security["allowPrivilegeEscalation"] is False, label
            assert c_security["readOnlyRootFilesystem"] is True, label
            assert c_security["capabilities"]["drop"] == ["ALL"], label
            assert c_security.get("runAsUser", 1) != 0, label
            image = container["image"]
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), label
        if where.startswith("Deployment/"):
            for container in spec["containers"]:
                for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                    assert "httpGet" in container[probe], (where, probe)


def test_subgraphs_serve_health_on_their_port(tree):
    _, objects = tree
    for name in SUBGRAPH_NAMES:
        container = objects_of(objects, "Deployment")[name]["spec"]["template"]["spec"][
            "containers"
        ][0]
        assert container["ports"][0]["containerPort"] == SERVICES[name]
        assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
        assert container["args"] == ["--host", "0.0.0.0", "--port", str(SERVICES[name])]


def test_migrations_run_as_one_job_per_subgraph(tree):
    _, objects = tree
    jobs = objects_of(objects, "Job")
    deployments = objects_of(objects, "Deployment")
    assert set(jobs) == {f"migrate-{name}" for name in SUBGRAPH_NAMES}
    for name in SUBGRAPH_NAMES:
        job = jobs[f"migrate-{name}"]["spec"]
        container = job["template"]["spec"]["containers"][0]
        assert job["template"]["spec"]["restartPolicy"] == "Never"
        assert job["backoffLimit"] >= 1 and job["activeDeadlineSeconds"] > 0
        app = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == app["image"], "migrate with the image that will serve"
        assert container["env"] == app["env"] and container["envFrom"] == app["envFrom"]
        assert container["command"] == ["python", "-m", "subgraphs", name, "--migrate-only"]


# --- configuration and secrets --------------------------------------------------------------


def test_secrets_are_referenced_never_inlined(tree):
    _, objects = tree
    assert not [o for o in objects if o["kind"] == "Secret"], "define Secrets outside the repo"
    referenced: set[str] = set()
    for where, spec in pod_specs(objects):
        for container in spec.get("initContainers", []) + spec["containers"]:
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    referenced.add(ref["name"])
                elif SENSITIVE.search(env["name"]):
                    pytest.fail(f"{where}: {env['name']} has a literal value; use a secretKeyRef")
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    referenced.add(source["secretRef"]["name"])
    for ingress in objects_of(objects, "Ingress").values():
        referenced |= {tls["secretName"] for tls in ingress["spec"].get("tls", [])}
    assert referenced <= SECRETS, referenced - SECRETS
    assert {"pizza-auth", "pizza-database", "pizza-redis"} <= referenced
    for config in objects_of(objects, "ConfigMap").values():
        for name, value in config["data"].items():
            assert not SENSITIVE.search(name), f"{name} in ConfigMap {config['metadata']['name']}"
            assert "password" not in value.lower(), name
            assert not CREDENTIALS_IN_URL.search(value), f"credentials in {name}"


def secret_refs(container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Environment variables of ``container`` that come from a Secret: name -> (secret, key)."""
    refs = {}
    for env in container.get("env", []):
        ref = env.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            refs[env["name"]] = (ref["name"], ref["key"])
    return refs


def test_auth_secrets_reach_exactly_who_needs_them(tree):
    """ADR 0007: the claims secret to our router and every subgraph (and its migration Job,
    which runs with the same env); users' private keys to users only; no HS256 secret."""
    path, objects = tree
    claims = ("pizza-auth", "claims-secret")
    private_keys = ("pizza-auth", "jwt-private-keys")
    for where, spec in pod_specs(objects):
        for container in spec.get("initContainers", []) + spec["containers"]:
            refs = secret_refs(container)
            label = f"{where}/{container['name']}"
            names = {e["name"] for e in container.get("env", [])}
            assert "PIZZA_AUTH_SECRET" not in names, f"{label}: unused since ADR 0007"
            assert {v for v in refs.values() if v[0] == "pizza-auth"} <= {claims, private_keys}
            if refs.get("PIZZA_JWT_PRIVATE_KEYS") == private_keys:
                assert where in ("Deployment/users", "Job/migrate-users"), label
            assert private_keys not in {v for k, v in refs.items() if k != "PIZZA_JWT_PRIVATE_KEYS"}
    deployments = objects_of(objects, "Deployment")
    for name in SUBGRAPH_NAMES:
        refs = secret_refs(deployments[name]["spec"]["template"]["spec"]["containers"][0])
        assert refs.get("PIZZA_ROUTER_CLAIMS_SECRET") == claims, name
        assert ("PIZZA_JWT_PRIVATE_KEYS" in refs) == (name == "users"), name
    router = deployments["router"]["spec"]["template"]["spec"]["containers"][0]
    if path == "overlays/apollo-router":
        assert secret_refs(router) == {}, "Apollo Router needs no secret of ours"
    else:
        assert secret_refs(router) == {"PIZZA_ROUTER_CLAIMS_SECRET": claims}
        ours = yaml.safe_load(
            objects_of(objects, "ConfigMap")["pizza-router-config"]["data"]["router.yaml"]
        )
        (jwks,) = ours["authentication"]["router"]["jwt"]["jwks"]
        assert jwks["url"] == USERS_JWKS and jwks["algorithms"] == ["ES256"]


def test_subgraphs_trust_end_user_tokens_only_behind_apollo_router(tree):
    """Behind our router subgraphs read the signed claims header only (the option is off)."""
    path, objects = tree
    data = objects_of(objects, "ConfigMap")["pizza-config"]["data"]
    expected = USERS_JWKS if path == "overlays/apollo-router" else None
    assert data.get(TRUST_JWKS) == expected


def test_router_config_reaches_every_subgraph_by_its_service(tree):
    _, objects = tree
    configs = objects_of(objects, "ConfigMap")
    ours = yaml.safe_load(configs["pizza-router-config"]["data"]["router.yaml"])
    expected = {n: f"http://{n}:{SERVICES[n]}/graphql" for n in SUBGRAPH_NAMES}
    assert ours["override_subgraph_url"] == expected
    assert ours["supergraph"]["listen"] == "0.0.0.0:4000"
    assert yaml.safe_load(configs["pizza-config"]["data"]["PIZZA_SUBGRAPH_URLS"]) == expected


# --- network policies -----------------------------------------------------------------------


def service_callers() -> dict[str, set[str]]:
    """Who calls whom service-to-service, read from the code (call_subgraph(name=...))."""
    callers: dict[str, set[str]] = {}
    for caller in SUBGRAPH_NAMES:
        for source in (ROOT / "subgraphs" / caller).rglob("*.py"):
            text = source.read_text(encoding="utf-8")
            for call in re.finditer(r"call_subgraph\((.*?)\)", text, re.S):
                for callee in re.findall(r'name="(\w+)"', call.group(1)):
                    callers.setdefault(callee, set()).add(caller)
    return callers


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels selectors are modelled here"
    return selector.get("matchLabels", {}).items() <= labels.items()


def test_network_policies_allow_only_router_to_subgraphs(tree):
    """Default deny; a subgraph accepts only the router, its service-to-service callers
    (from the code) and Prometheus in the monitoring namespace; the router accepts clients."""
    _, objects = tree
    policies = objects_of(objects, "NetworkPolicy")
    jwks_url = objects_of(objects, "ConfigMap")["pizza-config"]["data"].get(TRUST_JWKS)
    jwks_host = urlparse(jwks_url).hostname if jwks_url else None
    deny = policies["default-deny-ingress"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
    pods = {
        name: d["spec"]["template"]["metadata"]["labels"]
        for name, d in objects_of(objects, "Deployment").items()
    }
    for job in objects_of(objects, "Job").values():
        pods[job["metadata"]["name"]] = job["spec"]["template"]["metadata"]["labels"]
    callers = service_callers()
    assert callers, "the code has service-to-service calls; did the regex stop matching?"
    prometheus = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
    }
    for target, labels in pods.items():
        rules = [
            rule
            for policy in policies.values()
            if selects(policy["spec"]["podSelector"], labels) and policy["spec"]["podSelector"]
            for rule in policy["spec"].get("ingress", [])
        ]
        if target.startswith("migrate-"):
            assert rules == [], f"{target} takes no traffic"
            continue
        if target == "router":
            assert any(
                "from" not in rule and rule["ports"] == [{"protocol": "TCP", "port": 4000}]
                for rule in rules
            )
            continue
        allowed: set[str] = set()
        for rule in rules:
            assert rule["ports"] == [{"protocol": "TCP", "port": SERVICES[target]}], target
            assert rule.get("from"), f"{target}: a rule without `from` admits everyone"
            for peer in rule["from"]:
                if peer == prometheus:
                    continue
                assert set(peer) == {"podSelector"}, f"{target}: {peer}"
                allowed |= {name for name, pod in pods.items() if selects(peer["podSelector"], pod)}
        expected = {"router"} | callers.get(target, set())
        if target == jwks_host:
            expected |= set(SUBGRAPH_NAMES)  # subgraphs verifying tokens fetch its JWKS
        assert allowed == expected, target


# --- overlays -------------------------------------------------------------------------------


def test_production_overlay_is_namespaced_restricted_and_pinned():
    objects = render(K8S / "overlays/production")
    namespace = objects_of(objects, "Namespace")["pizza"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert all(
        o["metadata"].get("namespace") == "pizza" for o in objects if o["kind"] != "Namespace"
    )
    for where, spec in pod_specs(objects):
        for container in spec.get("initContainers", []) + spec["containers"]:
            assert not container["image"].startswith("pizza-supergraph/"), where
            assert not container["image"].endswith(":dev"), where
    assert (
        objects_of(objects, "ConfigMap")["pizza-config"]["data"]["PIZZA_LOAD_DEMO_DATA"] == "false"
    )


def test_apollo_router_overlay_swaps_only_the_router():
    production = {key(o): o for o in render(K8S / "overlays/production")}
    apollo = {key(o): o for o in render(K8S / "overlays/apollo-router")}
    changed = {k for k in apollo if production.get(k) != apollo[k]}
    assert changed == {
        ("Deployment", "pizza", "router"),
        ("NetworkPolicy", "pizza", "router-ingress"),
        ("ConfigMap", "pizza", "apollo-router-config"),
        # ADR 0007: subgraphs verify the propagated token against users' JWKS themselves.
        ("ConfigMap", "pizza", "pizza-config"),
        ("NetworkPolicy", "pizza", "users-ingress"),
    }
    assert set(production) <= set(apollo)
    ours_data = production[("ConfigMap", "pizza", "pizza-config")]["data"]
    theirs_data = apollo[("ConfigMap", "pizza", "pizza-config")]["data"]
    assert theirs_data == {**ours_data, TRUST_JWKS: USERS_JWKS}

    ours = production[("Deployment", "pizza", "router")]["spec"]["template"]
    theirs = apollo[("Deployment", "pizza", "router")]["spec"]["template"]
    assert theirs["metadata"]["labels"] == ours["metadata"]["labels"], "Service/HPA/PDB/policies"
    container = theirs["spec"]["containers"][0]
    assert re.fullmatch(r"ghcr\.io/apollographql/router:v\d+\.\d+\.\d+", container["image"])
    env = {e["name"]: e["value"] for e in container["env"]}
    (init,) = theirs["spec"]["initContainers"]
    assert init["image"] == ours["spec"]["containers"][0]["image"], "same supergraph file"
    assert init["command"][1] == "/app/schema/supergraph.graphql"
    assert init["command"][2] == env["APOLLO_ROUTER_SUPERGRAPH_PATH"]
    assert [p["containerPort"] for p in container["ports"] if p["name"] == "http"] == [4000]

    config = yaml.safe_load(
        apollo[("ConfigMap", "pizza", "apollo-router-config")]["data"]["router.yaml"]
    )
    ours_config = yaml.safe_load(
        apollo[("ConfigMap", "pizza", "pizza-router-config")]["data"]["router.yaml"]
    )
    assert config["override_subgraph_url"] == ours_config["override_subgraph_url"]
    assert config["headers"] == ours_config["headers"]
    assert {"propagate": {"named": "authorization"}} in config["headers"]["all"]["request"]
    # Apollo Router's names (2.x): `issuers` and `audiences` are lists.
    (jwks,) = config["authentication"]["router"]["jwt"]["jwks"]
    (ours_jwks,) = ours_config["authentication"]["router"]["jwt"]["jwks"]
    assert jwks["url"] == ours_jwks["url"] == USERS_JWKS
    assert jwks["issuers"] == [ours_jwks["issuer"]] == [ISSUER]
    assert jwks["audiences"] == ours_jwks["audiences"] == [AUDIENCE]
    assert jwks["algorithms"] == ["ES256"]
    # stale_if_error is ours only (Apollo Router has no such option); the rest is shared.
    assert config["traffic_shaping"]["all"] == ours_config["traffic_shaping"]["all"]
    assert config["supergraph"]["listen"] == "0.0.0.0:4000"
    assert config["supergraph"]["path"] == "/graphql"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert str(Path(env["APOLLO_ROUTER_CONFIG_PATH"]).parent) in mounts
    probe_port = container["readinessProbe"]["httpGet"]["port"]
    health_port = next(p["containerPort"] for p in container["ports"] if p["name"] == probe_port)
    assert config["health_check"]["listen"] == f"0.0.0.0:{health_port}"
