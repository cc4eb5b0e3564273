"""Compose the gateways-benchmark supergraph with our composer; compare with Apollo's.

``python -m bench.compose`` writes ``bench/gateways_benchmark/supergraph.graphql``;
``--check`` also composes with ``@apollo/composition`` (``bench/js``) and fails unless both
supergraphs are identical.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from bench.gateways_benchmark import SUBGRAPH_NAMES, SUPERGRAPH_PATH, subgraph_sdl, subgraph_url
from router.composition import SubgraphDefinition, compose

JS_DIR = Path(__file__).parent / "js"


def definitions(base_port: int | None = None) -> list[SubgraphDefinition]:
    """The four subgraphs, routed at their default benchmark ports."""
    return [
        SubgraphDefinition(
            name=name,
            url=subgraph_url(name) if base_port is None else subgraph_url(name, base_port),
            sdl=subgraph_sdl(name),
        )
        for name in SUBGRAPH_NAMES
    ]


def compose_ours() -> str:
    """The supergraph SDL from ``router.composition``."""
    result = compose(definitions())
    if not result.ok or result.supergraph_sdl is None:
        raise SystemExit(f"composition failed: {[str(e) for e in result.errors]}")
    return result.supergraph_sdl


def compose_apollo() -> str:
    """The supergraph SDL from ``@apollo/composition`` (needs ``bench/js/node_modules``)."""
    services = [{"name": d.name, "url": d.url, "sdl": d.sdl} for d in definitions()]
    completed = subprocess.run(
        ["node", "compose.mjs"],
        cwd=JS_DIR,
        input=json.dumps(services),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(completed.stdout)
    if "errors" in result:
        raise SystemExit(f"@apollo/composition failed: {result['errors']}")
    return result["supergraphSdl"]


def main(argv: list[str] | None = None) -> int:
    """Write the supergraph; with ``--check``, compare it with Apollo's composition."""
    parser = argparse.ArgumentParser(prog="python -m bench.compose", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare with @apollo/composition")
    args = parser.parse_args(argv)
    ours = compose_ours()
    SUPERGRAPH_PATH.write_text(ours, encoding="utf-8")
    print(f"wrote {SUPERGRAPH_PATH}")
    if args.check:
        if compose_apollo() != ours:
            print("our supergraph differs from @apollo/composition's", file=sys.stderr)
            return 1
        print("identical to @apollo/composition's supergraph")
    return 0


if __name__ == "__main__":
    sys.exit(main())
