"""Command line: serve the router, print a query plan, or compose a supergraph.

In: ``python -m router [serve] --supergraph PATH [--host H] [--port N] [--config router.yaml]
[--workers N] [--deduplicate-inflight] [--tls-cert PEM --tls-key PEM]``,
``python -m router plan --supergraph PATH QUERY_FILE [--operation-name NAME]``,
``python -m router compose CONFIG.yaml [--output FILE]``,
``python -m router manifest DIR [--output FILE] [--supergraph SDL] [--check]``. Out: a running server, a printed plan,
or a supergraph SDL.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from router.config import RouterConfig
from router.edge.config import HELP as EDGE_HELP
from router.subscriptions.options import HELP as SUBSCRIPTION_HELP

_EPILOG = """\
router.yaml (Apollo Router names):
  supergraph:
    listen: 127.0.0.1:4000
    introspection: true
    explorer: {enabled: true}   # GraphiQL for browsers on GET /graphql
  plugins: {experimental.expose_query_plan: true}  # header Apollo-Expose-Query-Plan: true
    query_planning: {cache: {in_memory: {limit: 512}}}
  override_subgraph_url: {products: http://127.0.0.1:4002/graphql}
  traffic_shaping:
    all: {timeout: 30s}
    subgraphs: {products: {timeout: 5s}}
  headers:
    all: {request: [{propagate: {named: x-tenant}}]}
  supergraph.tls: {cert_file: router.crt, key_file: router.key}   # serve HTTPS
  tls: {subgraph: {all: {certificate_authorities: ca.pem}}}      # CA for https:// subgraphs

Environment overrides: ROUTER_HOST, ROUTER_PORT, ROUTER_TIMEOUT, ROUTER_SUBGRAPH_URL_<NAME>,
ROUTER_TLS_CERT_FILE, ROUTER_TLS_KEY_FILE, ROUTER_SUBGRAPH_CA_FILE.
The Authorization header is always forwarded to subgraphs.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m router",
        description="A Python Apollo Federation 2 router.",
        epilog=_EPILOG + "\n" + EDGE_HELP + "\n" + SUBSCRIPTION_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command")

    def add_serve_options(target: argparse.ArgumentParser, *, sub: bool) -> None:
        # Subcommand defaults must not overwrite options given before the subcommand.
        default = argparse.SUPPRESS if sub else None
        target.add_argument("--supergraph", default=default, help="supergraph SDL file (composed)")
        target.add_argument("--config", default=default, help="router.yaml")
        target.add_argument("--host", default=default, help="listen host (default 127.0.0.1)")
        target.add_argument("--port", type=int, default=default, help="listen port (default 4000)")
        target.add_argument("--tls-cert", default=default, help="serve HTTPS: PEM certificate")
        target.add_argument("--tls-key", default=default, help="serve HTTPS: PEM private key file")
        target.add_argument(
            "--workers", type=int, default=argparse.SUPPRESS if sub else 1, help="worker processes"
        )
        target.add_argument(
            "--deduplicate-inflight",
            action="store_true",
            default=argparse.SUPPRESS if sub else False,
            help="byte-identical concurrent queries share one execution",
        )

    add_serve_options(parser, sub=False)
    serve = commands.add_parser("serve", help="serve the router (the default command)")
    add_serve_options(serve, sub=True)

    plan = commands.add_parser("plan", help="print the query plan of an operation")
    plan.add_argument("--supergraph", required=True, help="supergraph SDL file")
    plan.add_argument("query_file", help="file holding the GraphQL operation")
    plan.add_argument("--operation-name", help="operation to plan when the file has several")
    plan.add_argument(
        "--variables", default="{}", help="JSON variables (only @skip/@include values matter)"
    )

    compose = commands.add_parser("compose", help="compose a supergraph from a supergraph.yaml")
    compose.add_argument("config", help="supergraph.yaml (Rover format)")
    compose.add_argument("--output", help="write the SDL here instead of stdout")

    manifest = commands.add_parser(
        "manifest", help="write an Apollo persisted-query manifest from .graphql operation files"
    )
    manifest.add_argument("operations", help="directory of .graphql operation files")
    manifest.add_argument("--output", help="write the manifest here instead of stdout")
    manifest.add_argument("--supergraph", help="validate the operations against this supergraph")
    manifest.add_argument(
        "--check", action="store_true", help="fail when --output differs (a stale manifest)"
    )
    return parser


def _read_supergraph(path: str) -> str | None:
    """The SDL at ``path`` once it is known to be a usable supergraph; None after printing why not."""
    from graphql import GraphQLError

    from router.errors import SupergraphError
    from router.supergraph import Supergraph

    try:
        sdl = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"error: cannot read the supergraph file {path}: {error}", file=sys.stderr)
        return None
    try:
        Supergraph.parse(sdl)
    except (SupergraphError, GraphQLError) as error:
        print(f"error: {path} is not a valid supergraph: {error}", file=sys.stderr)
        return None
    return sdl


def _serve(args: argparse.Namespace) -> int:
    if not args.supergraph:
        print("error: --supergraph is required to serve", file=sys.stderr)
        return 2
    sdl = _read_supergraph(args.supergraph)
    if sdl is None:
        return 2
    config = (
        RouterConfig.from_yaml(args.config) if args.config else RouterConfig().with_env(os.environ)
    )
    from dataclasses import replace

    if args.host:
        config = replace(config, host=args.host)
    if args.port:
        config = replace(config, port=args.port)
    if args.tls_cert or args.tls_key:
        config = replace(
            config,
            tls_cert_file=args.tls_cert or config.tls_cert_file,
            tls_key_file=args.tls_key or config.tls_key_file,
        )
    if bool(config.tls_cert_file) != bool(config.tls_key_file):
        print("error: TLS needs both a certificate and a key file", file=sys.stderr)
        return 2
    # Paths only: uvicorn reads the key itself and it is never logged (ADR 0011).
    tls = {"ssl_certfile": config.tls_cert_file, "ssl_keyfile": config.tls_key_file}
    import uvicorn

    from router.server import WEBSOCKET_PROTOCOL, create_app

    if args.workers > 1:
        os.environ["ROUTER_SUPERGRAPH_PATH"] = str(Path(args.supergraph).resolve())
        os.environ["ROUTER_HOST"], os.environ["ROUTER_PORT"] = config.host, str(config.port)
        if args.config:
            os.environ["ROUTER_CONFIG_PATH"] = str(Path(args.config).resolve())
        if args.deduplicate_inflight:
            os.environ["ROUTER_DEDUPLICATE_INFLIGHT"] = "1"
        uvicorn.run(
            "router.server:create_app_from_env",
            factory=True,
            host=config.host,
            port=config.port,
            workers=args.workers,
            log_level="info",
            access_log=False,
            ws=WEBSOCKET_PROTOCOL,
            **tls,
        )
        return 0

    app = create_app(
        supergraph_sdl=sdl, config=config, deduplicate_inflight=args.deduplicate_inflight
    )
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level="info",
        access_log=False,
        ws=WEBSOCKET_PROTOCOL,
        **tls,
    )
    return 0


def _plan(args: argparse.Namespace) -> int:
    import json

    from router.errors import RequestError
    from router.gateway import Gateway

    sdl = _read_supergraph(args.supergraph)
    if sdl is None:
        return 2
    gateway = Gateway.from_sdl(sdl, RouterConfig())
    query = Path(args.query_file).read_text(encoding="utf-8")
    try:
        prepared = gateway.prepare(query, args.operation_name)
        variables = gateway.coerce_variables(prepared, json.loads(args.variables))
        planned = gateway.plan_for(query, args.operation_name, prepared, variables)
    except RequestError as error:
        print(f"error [{error.code}]: {error}", file=sys.stderr)
        return 1
    print(planned.plan)
    return 0


def _compose(args: argparse.Namespace) -> int:
    try:
        from router.composition import compose_from_config  # type: ignore[attr-defined]
    except ImportError as error:
        print(f"error: composition is not available: {error}", file=sys.stderr)
        return 1
    from router.composition import CompositionFailed

    try:
        sdl = compose_from_config(args.config)
    except CompositionFailed as error:
        print(f"error: composition failed:\n{error}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as error:
        print(f"error: cannot compose from {args.config}: {error}", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_text(sdl, encoding="utf-8")
    else:
        sys.stdout.write(sdl)
    return 0


def _manifest(args: argparse.Namespace) -> int:
    from router.edge.manifest import ManifestError, build_manifest, render_manifest

    schema = None
    if args.supergraph:
        from router.supergraph import Supergraph

        schema = Supergraph.parse(Path(args.supergraph).read_text(encoding="utf-8")).api_schema
    try:
        text = render_manifest(build_manifest(args.operations, schema=schema))
    except ManifestError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.check:
        current = Path(args.output).read_text(encoding="utf-8") if args.output else ""
        if current != text:
            print(f"error: {args.output} is stale: run make manifest", file=sys.stderr)
            return 1
        return 0
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "plan":
        return _plan(args)
    if args.command == "compose":
        return _compose(args)
    if args.command == "manifest":
        return _manifest(args)
    return _serve(args)


if __name__ == "__main__":
    sys.exit(main())
