"""HTTP edge of the router (Starlette).

In: GraphQL-over-HTTP requests: ``POST /graphql`` (JSON body with ``query``, ``variables``,
``operationName``, ``extensions``), ``GET /graphql?query=...`` (queries only), ``GET /health``.
Out: GraphQL responses as ``application/json`` (request errors with status 200) or, when the
client accepts it, ``application/graphql-response+json`` (request errors with 4xx statuses),
per the GraphQL-over-HTTP spec. Malformed requests get 400 ``BAD_REQUEST``, mutations over GET
405. Unexpected failures are logged and answered with ``INTERNAL_SERVER_ERROR``, never a trace.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from router import errors, graphiql
from router.config import RouterConfig
from router.gateway import Gateway

logger = logging.getLogger("router")

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
_HTTP_LEVEL_CODES = frozenset({errors.BAD_REQUEST, errors.METHOD_NOT_ALLOWED})


def _media_type(request: Request) -> str:
    accept = request.headers.get("accept", "")
    return GRAPHQL_RESPONSE_JSON if GRAPHQL_RESPONSE_JSON in accept else JSON


def _respond(payload: dict[str, Any], *, status: int, media_type: str) -> Response:
    headers = {"allow": "POST"} if status == 405 else None
    return Response(
        orjson.dumps(payload), status_code=status, media_type=media_type, headers=headers
    )


def _request_error(error: errors.RequestError, media_type: str) -> Response:
    status = (
        error.status
        if media_type == GRAPHQL_RESPONSE_JSON or error.code in _HTTP_LEVEL_CODES
        else 200
    )
    return _respond({"errors": error.errors}, status=status, media_type=media_type)


def _bad_request(message: str) -> errors.RequestError:
    return errors.RequestError(message, code=errors.BAD_REQUEST)


def _read_params(source: Any) -> tuple[str, str | None, dict[str, Any]]:
    if not isinstance(source, dict):
        raise _bad_request("The request body must be a JSON object")
    query = source.get("query")
    if not isinstance(query, str) or not query.strip():
        raise _bad_request("Must provide query string.")
    operation_name = source.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise _bad_request("operationName must be a string")
    variables = source.get("variables")
    if variables is None:
        variables = {}
    if not isinstance(variables, dict):
        raise _bad_request("variables must be a JSON object")
    return query, operation_name or None, variables


def _forwarded_headers(request: Request) -> dict[str, str]:
    return {key: value for key, value in request.headers.items()}


def create_app(*, supergraph_sdl: str, config: RouterConfig) -> Starlette:
    """The router as an ASGI app; it owns the subgraph HTTP client through its lifespan."""
    gateway = Gateway.from_sdl(supergraph_sdl, config)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    async def graphql(request: Request) -> Response:
        media_type = _media_type(request)
        try:
            if request.method == "GET":
                params = dict(request.query_params)
                if "variables" in params:
                    try:
                        params["variables"] = orjson.loads(params["variables"])
                    except orjson.JSONDecodeError as error:
                        raise _bad_request("variables must be JSON") from error
                query, operation_name, variables = _read_params(params)
            else:
                try:
                    body = orjson.loads(await request.body())
                except orjson.JSONDecodeError as error:
                    raise _bad_request("Malformed JSON in the request body") from error
                query, operation_name, variables = _read_params(body)
            result = await gateway.execute(
                query=query,
                operation_name=operation_name,
                variables=variables,
                headers=_forwarded_headers(request),
                allow_mutations=request.method == "POST",
                expose_plan=config.expose_query_plan
                and request.headers.get("apollo-expose-query-plan", "").lower() == "true",
            )
        except errors.RequestError as error:
            return _request_error(error, media_type)
        except Exception:
            logger.exception("Unexpected error while serving a GraphQL request")
            payload = {
                "errors": [
                    errors.graphql_error("Internal server error", code=errors.INTERNAL_SERVER_ERROR)
                ]
            }
            return _respond(payload, status=500, media_type=media_type)
        return _respond(result, status=200, media_type=media_type)

    async def health(_: Request) -> Response:
        return _respond({"status": "ok"}, status=200, media_type=JSON)

    app = Starlette(
        routes=[
            *graphiql.routes(enabled=config.explorer_enabled),  # browsers' GET /graphql
            Route("/graphql", graphql, methods=["GET", "POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return app


def create_app_from_env() -> Starlette:
    """App factory for multi-worker uvicorn: reads ``ROUTER_SUPERGRAPH_PATH`` and ``ROUTER_CONFIG_PATH``."""
    sdl = Path(os.environ["ROUTER_SUPERGRAPH_PATH"]).read_text(encoding="utf-8")
    config_path = os.environ.get("ROUTER_CONFIG_PATH")
    config = (
        RouterConfig.from_yaml(config_path) if config_path else RouterConfig().with_env(os.environ)
    )
    return create_app(supergraph_sdl=sdl, config=config)


def uvicorn_server(*, supergraph_sdl: str, config: RouterConfig) -> uvicorn.Server:
    """A ``uvicorn.Server`` serving the router on ``config.host:config.port`` (not started)."""
    app = create_app(supergraph_sdl=supergraph_sdl, config=config)
    settings = uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
    )
    return uvicorn.Server(settings)


async def serve(*, supergraph_sdl: str, config: RouterConfig) -> None:
    """Serve the router in the running event loop until the server is stopped."""
    await uvicorn_server(supergraph_sdl=supergraph_sdl, config=config).serve()
