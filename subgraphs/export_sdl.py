"""Write each subgraph's SDL (what ``{ _service { sdl } }`` answers) under ``schema/``.

``python -m subgraphs.export_sdl [--check]``: with ``--check`` nothing is written
and the exit status says whether the committed files are stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared.settings import SUBGRAPH_NAMES
from subgraphs import load_schema

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"


def subgraph_sdl(name: str) -> str:
    """The federation SDL subgraph ``name`` serves at ``_service { sdl }``."""
    result = load_schema(name).execute_sync("{ _service { sdl } }")
    if result.errors:
        raise RuntimeError(f"{name}: {result.errors[0].message}")
    return result.data["_service"]["sdl"].rstrip() + "\n"


def main() -> int:
    """Write (or check) ``schema/<name>.graphql`` for every subgraph."""
    parser = argparse.ArgumentParser(prog="python -m subgraphs.export_sdl", description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args()
    stale = []
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name in SUBGRAPH_NAMES:
        path = SCHEMA_DIR / f"{name}.graphql"
        sdl = subgraph_sdl(name)
        if path.exists() and path.read_text(encoding="utf-8") == sdl:
            continue
        stale.append(path.name)
        if not args.check:
            path.write_text(sdl, encoding="utf-8")
    if stale:
        print(("stale: " if args.check else "wrote: ") + ", ".join(stale))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
