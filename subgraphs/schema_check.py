"""Report breaking schema changes and fail on unannounced ones (docs/versioning.md).

``python -m subgraphs.schema_check [--base REV]`` compares the SDL the code produces now
(each subgraph's ``_service { sdl }`` and the supergraph composed from them, as the router
service) with the committed ``schema/*.graphql`` (default) or with ``git show REV:schema/...``.
Each breaking change is printed as ``service: TYPE Coordinate — description``; dangerous
changes are printed as warnings. Exit 1 when a breaking change is not announced: listed under
``announced_breaking_changes`` in ``schema/versions.yaml`` while the service's major version
(minor while 0.x) is above the base's (``versions.yaml`` at ``REV``, or at ``HEAD`` by default).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass, field

import yaml

from router.composition import SubgraphDefinition, compose
from router.schema_diff import SchemaChange, diff_subgraph_sdl, diff_supergraph_sdl
from shared.settings import SUBGRAPH_NAMES
from subgraphs.export_sdl import SCHEMA_DIR, subgraph_sdl

ROUTER = "router"
SERVICES: tuple[str, ...] = (ROUTER, *SUBGRAPH_NAMES)
ROOT = SCHEMA_DIR.parent
VERSIONS_PATH = "schema/versions.yaml"
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")


@dataclass(slots=True)
class Versions:
    """``schema/versions.yaml``: a version per service and the announced breaking changes."""

    services: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    announced: set[str] = field(default_factory=set)


def parse_version(text: str) -> tuple[int, int, int]:
    """``"1.2.3"`` as ``(1, 2, 3)``; ValueError when it is not MAJOR.MINOR.PATCH."""
    match = _SEMVER.match(str(text).strip())
    if not match:
        raise ValueError(f"not a semantic version (MAJOR.MINOR.PATCH): {text!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def load_versions(text: str | None) -> Versions:
    """Parse ``versions.yaml`` text; ``None`` (no file at the base) gives no versions."""
    data = yaml.safe_load(text or "") or {}
    services = {str(k): parse_version(v) for k, v in (data.get("services") or {}).items()}
    announced = {str(line).strip() for line in data.get("announced_breaking_changes") or ()}
    return Versions(services, announced)


def allows_break(base: tuple[int, int, int] | None, current: tuple[int, int, int]) -> bool:
    """Whether going from ``base`` to ``current`` is a release that may break clients."""
    if base is None:  # the service was not versioned at the base: this is its first release
        return True
    if base[0] == 0:
        return current[:2] > base[:2]
    return current[0] > base[0]


def is_announced(change: SchemaChange, versions: Versions, base: Versions) -> bool:
    """Listed (the printed line, or ``service: description``) and the version bumped."""
    listed = {str(change), f"{change.service}: {change.description}"} & versions.announced
    current = versions.services.get(change.service)
    if not listed or current is None:
        return False
    return allows_break(base.services.get(change.service), current)


def unannounced(
    changes: list[SchemaChange], versions: Versions, base: Versions
) -> list[SchemaChange]:
    """The breaking changes that fail the check."""
    return [c for c in changes if c.breaking and not is_announced(c, versions, base)]


def git_show(rev: str, path: str) -> str | None:
    """``git show REV:path``, or ``None`` when there is no such file (or no git)."""
    try:
        result = subprocess.run(
            ["git", "show", f"{rev}:{path}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


def current_sdls() -> dict[str, str]:
    """What the code serves now: each subgraph's SDL and the supergraph composed from them."""
    sdls = {name: subgraph_sdl(name) for name in SUBGRAPH_NAMES}
    config = yaml.safe_load((ROOT / "supergraph.yaml").read_text(encoding="utf-8"))
    urls = {
        name: (entry or {}).get("routing_url", "") for name, entry in config["subgraphs"].items()
    }
    result = compose(
        [SubgraphDefinition(name, str(urls.get(name, "")), sdl) for name, sdl in sdls.items()]
    )
    if result.supergraph_sdl is None:
        errors = "; ".join(str(e) for e in result.errors)
        raise SystemExit(f"schema-check: the current subgraphs do not compose: {errors}")
    return {ROUTER: result.supergraph_sdl, **sdls}


def base_sdls(rev: str | None) -> dict[str, str | None]:
    """The committed SDL (``schema/`` on disk, or at ``rev``); ``None`` for a new service."""
    sdls: dict[str, str | None] = {}
    for service in SERVICES:
        filename = "supergraph.graphql" if service == ROUTER else f"{service}.graphql"
        if rev is None:
            path = SCHEMA_DIR / filename
            sdls[service] = path.read_text(encoding="utf-8") if path.exists() else None
        else:
            sdls[service] = git_show(rev, f"schema/{filename}")
    return sdls


def find_changes(base: dict[str, str | None], current: dict[str, str]) -> list[SchemaChange]:
    """Breaking and dangerous changes of every service present at the base."""
    changes: list[SchemaChange] = []
    for service, new_sdl in current.items():
        old_sdl = base.get(service)
        if old_sdl is None:
            continue
        diff = diff_supergraph_sdl if service == ROUTER else diff_subgraph_sdl
        changes += diff(service, old_sdl, new_sdl)
    return changes


def main(argv: list[str] | None = None) -> int:
    """Print the changes; 1 on an unannounced breaking change, 2 on a bad versions.yaml."""
    parser = argparse.ArgumentParser(prog="python -m subgraphs.schema_check", description=__doc__)
    parser.add_argument("--base", metavar="REV", help="compare with git REV instead of schema/")
    args = parser.parse_args(argv)
    if args.base is not None and git_show(args.base, "") is None:
        print(f"schema-check: unknown git revision {args.base!r}")
        return 2
    try:
        versions = load_versions((ROOT / VERSIONS_PATH).read_text(encoding="utf-8"))
        base_versions = load_versions(git_show(args.base or "HEAD", VERSIONS_PATH))
    except (OSError, ValueError, AttributeError) as exc:
        print(f"schema-check: {VERSIONS_PATH}: {exc}")
        return 2
    missing = [s for s in SERVICES if s not in versions.services]
    if missing:
        print(f"schema-check: {VERSIONS_PATH} has no version for {', '.join(missing)}")
        return 2
    changes = find_changes(base_sdls(args.base), current_sdls())
    failing = unannounced(changes, versions, base_versions)
    for change in changes:
        if not change.breaking:
            print(f"warning (dangerous): {change}")
    for change in changes:
        if change.breaking:
            print(f"{change}" + ("" if change in failing else "  [announced]"))
    against = args.base or "schema/"
    if failing:
        print(
            f"schema-check: {len(failing)} unannounced breaking change(s) against {against}: "
            f"bump the service's version and list the line under announced_breaking_changes "
            f"in {VERSIONS_PATH} (docs/versioning.md)"
        )
        return 1
    print(f"schema-check: no unannounced breaking change against {against}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
