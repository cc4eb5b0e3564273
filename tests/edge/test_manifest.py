"""``make manifest``: the committed persisted-query manifest is generated from operations/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from router.edge.apq import sha256_hex
from router.edge.manifest import ManifestError, build_manifest, render_manifest
from router.edge.safelist import load_manifest
from router.supergraph import Supergraph

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "operations"
MANIFEST = ROOT / "schema" / "persisted-queries.json"
SUPERGRAPH = ROOT / "schema" / "supergraph.graphql"


def test_committed_manifest_is_current() -> None:
    schema = Supergraph.parse(SUPERGRAPH.read_text(encoding="utf-8")).api_schema
    expected = render_manifest(build_manifest(OPERATIONS, schema=schema))
    assert MANIFEST.read_text(encoding="utf-8") == expected, (
        "schema/persisted-queries.json is stale: run `make manifest`"
    )


def test_manifest_is_apollo_format_with_sha256_ids() -> None:
    data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert data["format"] == "apollo-persisted-query-manifest" and data["version"] == 1
    names = {op["name"] for op in data["operations"]}
    assert {"StoresNear", "Menu", "PriceOrder", "PlaceOrder", "Order", "PartnerMenu"} <= names
    for op in data["operations"]:
        assert op["id"] == sha256_hex(op["body"])
        assert op["type"] in ("query", "mutation")
    assert len(load_manifest(MANIFEST)) == len(data["operations"])


def test_bodies_carry_the_fragments_they_use(tmp_path: Path) -> None:
    (tmp_path / "a.graphql").write_text(
        "query A { me { ...U } }\nquery B { me { id } }", encoding="utf-8"
    )
    (tmp_path / "f.graphql").write_text(
        "fragment U on User { name ...V }\nfragment V on User { id }", encoding="utf-8"
    )
    operations = {op["name"]: op for op in build_manifest(tmp_path)["operations"]}
    assert operations["A"]["body"].index("fragment U") < operations["A"]["body"].index("fragment V")
    assert "fragment" not in operations["B"]["body"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{ me { id } }", "needs a name"),
        ("query A { me { ...Missing } }", "unknown fragment"),
        ("query A { a } query A { b }", "also in"),
        ("type T { a: Int }", "only operations"),
    ],
)
def test_bad_operation_files_are_refused(tmp_path: Path, text: str, problem: str) -> None:
    (tmp_path / "x.graphql").write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError, match=problem):
        build_manifest(tmp_path)


def test_cli_writes_and_checks(tmp_path: Path) -> None:
    output = tmp_path / "pq.json"
    command = [sys.executable, "-m", "router", "manifest", str(OPERATIONS), "--output", str(output)]
    assert subprocess.run(command, cwd=ROOT, timeout=60, check=False).returncode == 0
    assert output.read_text(encoding="utf-8") == MANIFEST.read_text(encoding="utf-8")
    check = subprocess.run([*command, "--check"], cwd=ROOT, timeout=60, check=False)
    assert check.returncode == 0
    output.write_text("{}", encoding="utf-8")
    stale = subprocess.run(
        [*command, "--check"], cwd=ROOT, timeout=60, capture_output=True, text=True, check=False
    )
    assert stale.returncode == 1 and "stale" in stale.stderr
