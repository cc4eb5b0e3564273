"""Run one subgraph on its own: ``python -m subgraphs NAME [--port N] [--host H]``.

HTTPS when ``PIZZA_TLS_CERT_FILE`` and ``PIZZA_TLS_KEY_FILE`` are set (ADR 0011).

``--migrate-only`` applies the subgraph's Alembic migrations and exits (a Kubernetes
Job before a rollout; replicas then start with ``PIZZA_MIGRATE_ON_START=false``).
"""

from __future__ import annotations

import argparse
import asyncio

import uvicorn

from shared.settings import SUBGRAPH_NAMES, get_settings
from shared.subgraph import SubgraphRuntime
from subgraphs import create_app


def main() -> None:
    """Parse arguments and serve the subgraph until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m subgraphs", description=__doc__)
    parser.add_argument("name", choices=SUBGRAPH_NAMES, help="which subgraph")
    parser.add_argument("--host", default=None, help="listen address (default PIZZA_HOST)")
    parser.add_argument("--port", type=int, default=None, help="port (default 4001 + index)")
    parser.add_argument(
        "--migrate-only", action="store_true", help="apply the database migrations and exit"
    )
    args = parser.parse_args()
    settings = get_settings()
    if args.migrate_only:
        asyncio.run(_migrate(args.name))
        return
    try:
        tls = settings.uvicorn_tls()
    except ValueError as error:
        parser.error(str(error))
    uvicorn.run(
        create_app(args.name),
        host=args.host or settings.host,
        port=args.port or settings.subgraph_port(args.name),
        log_level="info",
        ws="websockets-sansio",  # as the router (router.server.WEBSOCKET_PROTOCOL)
        **tls,
    )


async def _migrate(name: str) -> None:
    runtime = SubgraphRuntime.create(name)
    try:
        await runtime.db.migrate()
    finally:
        await runtime.db.dispose()


if __name__ == "__main__":
    main()
