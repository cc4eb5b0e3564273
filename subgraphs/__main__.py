"""Run one subgraph on its own: ``python -m subgraphs NAME [--port N] [--host H]``."""

from __future__ import annotations

import argparse

import uvicorn

from shared.settings import SUBGRAPH_NAMES, get_settings
from subgraphs import create_app


def main() -> None:
    """Parse arguments and serve the subgraph until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m subgraphs", description=__doc__)
    parser.add_argument("name", choices=SUBGRAPH_NAMES, help="which subgraph")
    parser.add_argument("--host", default=None, help="listen address (default PIZZA_HOST)")
    parser.add_argument("--port", type=int, default=None, help="port (default 4001 + index)")
    args = parser.parse_args()
    settings = get_settings()
    uvicorn.run(
        create_app(args.name),
        host=args.host or settings.host,
        port=args.port or settings.subgraph_port(args.name),
        log_level="info",
    )


if __name__ == "__main__":
    main()
