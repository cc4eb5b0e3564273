"""HTTP edge of the router (Starlette).

In: GraphQL-over-HTTP requests: ``POST /graphql`` (JSON body with ``query``, ``variables``,
``operationName``, ``extensions``), ``GET /graphql?query=...`` (queries only), ``GET /health``
(liveness), ``GET /ready`` and ``GET /metrics`` (``router.observability``).
Out: GraphQL responses as ``application/json`` (request errors with status 200) or, when the
client accepts it, ``application/graphql-response+json`` (request errors with 4xx statuses),
per the GraphQL-over-HTTP spec. Malformed requests get 400 ``BAD_REQUEST``, mutations over GET
405. Unexpected failures are logged and answered with ``INTERNAL_SERVER_ERROR``, never a trace.
The request edge (``router.edge``) runs first: CORS, CSRF, rate limits, body size, batches
(JSON arrays), APQ and persisted queries; its refusals keep their own HTTP status.
Subscriptions (``router.subscriptions``): ``graphql-transport-ws`` on the ``/graphql``
WebSocket, and multipart HTTP for a POSTed subscription that accepts
``multipart/mixed;subscriptionSpec="1.0"``; a subscription without it is a 400 ``BAD_REQUEST``.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from router import errors, graphiql, openapi, subscriptions
from router.config import RouterConfig
from router.edge import Edge
from router.edge.errors import HTTP_LEVEL_CODES as _EDGE_HTTP_LEVEL_CODES
from router.edge.safelist import PartnerPolicy
from router.gateway import Gateway
from router.observability import operation_span
from shared.telemetry import note_operation

logger = logging.getLogger("router")

# uvicorn's sans-I/O websockets protocol: a send is one synchronous frame write, no per-message
# task or drain (a fan-out to thousands of subscribers costs microseconds per client).
WEBSOCKET_PROTOCOL = "websockets-sansio"
GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
# Answered with their own status whatever the client accepts (401: as Apollo Router does).
_HTTP_LEVEL_CODES = (
    frozenset({errors.BAD_REQUEST, errors.METHOD_NOT_ALLOWED, "UNAUTHENTICATED"})
    | _EDGE_HTTP_LEVEL_CODES
)


def _media_type(request: Request) -> str:
    accept = request.headers.get("accept", "")
    return GRAPHQL_RESPONSE_JSON if GRAPHQL_RESPONSE_JSON in accept else JSON


def _respond(
    payload: dict[str, Any] | list[dict[str, Any]],
    *,
    status: int,
    media_type: str,
    headers: dict[str, str] | None = None,
) -> Response:
    if status == 405:
        headers = {**(headers or {}), "allow": "POST"}
    return Response(
        orjson.dumps(payload), status_code=status, media_type=media_type, headers=headers
    )


def _request_error(error: errors.RequestError, media_type: str) -> Response:
    status = (
        error.status
        if media_type == GRAPHQL_RESPONSE_JSON or error.code in _HTTP_LEVEL_CODES
        else 200
    )
    return _respond(
        {"errors": error.errors}, status=status, media_type=media_type, headers=error.headers
    )


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


_INTERNAL_ERROR = {
    "errors": [errors.graphql_error("Internal server error", code=errors.INTERNAL_SERVER_ERROR)]
}


def _forwarded_headers(request: Request) -> dict[str, str]:
    return {key: value for key, value in request.headers.items()}


_InflightKey = tuple[bytes, tuple[tuple[bytes, bytes], ...]]  # (body, every header)


class InflightRequests:
    """Byte-identical concurrent queries share one execution (opt-in).

    A POSTed query whose body and headers are all identical to one still running waits for
    that one's response instead of executing again (Hive Gateway's
    ``inboundInflightRequestDeduplication``). Mutations always run.
    """

    def __init__(self) -> None:
        self.running: dict[_InflightKey, asyncio.Task[Response]] = {}

    async def share(self, key: _InflightKey, answer: Coroutine[Any, Any, Response]) -> Response:
        """The response of the running request with ``key``, else ``answer``'s."""
        task = self.running.get(key)
        if task is None:
            task = asyncio.create_task(answer)
            self.running[key] = task
            task.add_done_callback(lambda _: self.running.pop(key, None))
        else:
            answer.close()  # not needed: the running request answers for it
        # Shielded: one client going away must not cancel the others' answer.
        return await asyncio.shield(task)


def create_app(
    *,
    supergraph_sdl: str,
    config: RouterConfig,
    deduplicate_inflight: bool = False,
    partner_policy: PartnerPolicy | None = None,
    subscription_options: subscriptions.SubscriptionOptions | None = None,
) -> Starlette:
    """The router as an ASGI app; it owns the subgraph HTTP client through its lifespan.

    ``partner_policy`` decides which clients are partners, restricted to the safelist
    (default: ``persisted_queries.partners``, see ``router.edge.safelist``).
    """
    gateway = Gateway.from_sdl(supergraph_sdl, config)
    edge = Edge(
        config.edge,
        introspection=config.introspection,
        partner_policy=partner_policy,
        authenticate=gateway.auth.authenticate,
    )
    inflight = InflightRequests() if deduplicate_inflight else None
    subscription_options = subscription_options or config.subscription
    # One per process: identical subscriptions share one subgraph subscription.
    subscription_hub = subscriptions.SubscriptionHub(gateway, subscription_options)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        gateway.observability.start()
        await gateway.start()
        # What exists now (supergraph, schemas, caches) lives as long as the process: frozen,
        # the collector stops rescanning it on every full collection, which cost a worker over
        # a tenth of its time and 50 ms pauses on the gateways benchmark (docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await gateway.stop()
            await edge.stop()

    def is_query(body: bytes) -> bool:
        try:
            query, operation_name, _ = _read_params(orjson.loads(body))
            return gateway.prepare(query, operation_name).kind == "query"
        except (orjson.JSONDecodeError, errors.RequestError):
            return False

    async def graphql(request: Request) -> Response:
        media_type = _media_type(request)
        try:
            await edge.admit(request)  # CSRF, rate limits: before reading the body
        except errors.RequestError as error:
            return _request_error(error, media_type)
        except Exception:
            logger.exception("Unexpected error at the request edge")
            return _respond(_INTERNAL_ERROR, status=500, media_type=media_type)
        if inflight is not None and request.method == "POST":
            try:
                body = await edge.read_body(request)  # 413 over the limit
            except errors.RequestError as error:
                return _request_error(error, media_type)
            if is_query(body):
                key = (body, tuple(request.scope["headers"]))
                return await inflight.share(key, answer(request, media_type, body))
            return await answer(request, media_type, body)
        return await answer(request, media_type)

    async def answer(request: Request, media_type: str, body: bytes | None = None) -> Response:
        """The response; ``body`` is the POST body when it was already read."""
        try:
            if request.method == "GET":
                edge.check_query_string(request)
                params: Any = dict(request.query_params)
                if "variables" in params:
                    try:
                        params["variables"] = orjson.loads(params["variables"])
                    except orjson.JSONDecodeError as error:
                        raise _bad_request("variables must be JSON") from error
            else:
                if body is None:
                    body = await edge.read_body(request)  # 413 over the limit
                try:
                    params = orjson.loads(body)
                except orjson.JSONDecodeError as error:
                    raise _bad_request("Malformed JSON in the request body") from error
                if isinstance(params, list):  # batch_http_link
                    await edge.check_batch(request, params)
                    results = await asyncio.gather(*(batch_item(p, request) for p in params))
                    return _respond(results, status=200, media_type=media_type)
                if subscriptions.accepts_multipart_subscriptions(request.headers.get("accept", "")):
                    params = await edge.resolve(params, request)
                    query, operation_name, variables = _read_params(params)
                    if gateway.prepare(query, operation_name).kind == "subscription":
                        return await subscribe_multipart(query, operation_name, variables, request)
                    result = await execute(params, request, resolved=True)
                    return _respond(result, status=200, media_type=media_type)
            result = await execute(params, request)
        except errors.RequestError as error:
            return _request_error(error, media_type)
        except Exception:
            logger.exception("Unexpected error while serving a GraphQL request")
            return _respond(_INTERNAL_ERROR, status=500, media_type=media_type)
        return _respond(result, status=200, media_type=media_type)

    async def execute(params: Any, request: Request, *, resolved: bool = False) -> dict[str, Any]:
        if not resolved:
            params = await edge.resolve(params, request)  # APQ, persisted query ids, safelist
        query, operation_name, variables = _read_params(params)
        note_operation(operation_name, known=False)  # a metric label once it ran (bounded)
        with operation_span(operation_name):
            result = await gateway.execute(
                query=query,
                operation_name=operation_name,
                variables=variables,
                headers=_forwarded_headers(request),
                allow_mutations=request.method == "POST",
                expose_plan=config.expose_query_plan
                and request.headers.get("apollo-expose-query-plan", "").lower() == "true",
            )
        note_operation(operation_name)
        return result

    async def subscribe_multipart(
        query: str, operation_name: str | None, variables: dict[str, Any], request: Request
    ) -> Response:
        headers = _forwarded_headers(request)
        claims = await gateway.auth.authenticate(headers)
        stream = await subscriptions.open_stream(
            gateway,
            query=query,
            operation_name=operation_name,
            variables=variables,
            headers=headers,
            claims=claims,
            hub=subscription_hub,
        )
        return subscriptions.multipart_response(
            stream, heartbeat=subscription_options.heartbeat_seconds
        )

    async def batch_item(params: Any, request: Request) -> dict[str, Any]:
        try:
            return await execute(params, request)
        except errors.RequestError as error:
            return {"errors": error.errors}
        except Exception:
            logger.exception("Unexpected error while serving a GraphQL request in a batch")
            return _INTERNAL_ERROR

    async def health(_: Request) -> Response:
        return _respond({"status": "ok"}, status=200, media_type=JSON)

    app = Starlette(
        # Outermost: span, request id, metrics and log line per request; then CORS.
        middleware=[gateway.observability.middleware(), *edge.middleware()],
        routes=[
            *graphiql.routes(enabled=config.explorer_enabled),  # browsers' GET /graphql
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute(
                "/graphql",
                subscriptions.websocket_endpoint(
                    gateway, options=subscription_options, hub=subscription_hub, edge=edge
                ),
            ),
            Route("/health", health, methods=["GET"]),
            openapi.route(),  # GET /openapi.json
            *gateway.observability.routes(),  # /metrics, /ready
        ],
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    app.state.subscription_options = subscription_options
    app.state.subscription_hub = subscription_hub
    return app


def create_app_from_env() -> Starlette:
    """App factory for multi-worker uvicorn: reads ``ROUTER_SUPERGRAPH_PATH``, ``ROUTER_CONFIG_PATH``
    and ``ROUTER_DEDUPLICATE_INFLIGHT``."""
    sdl = Path(os.environ["ROUTER_SUPERGRAPH_PATH"]).read_text(encoding="utf-8")
    config_path = os.environ.get("ROUTER_CONFIG_PATH")
    config = (
        RouterConfig.from_yaml(config_path) if config_path else RouterConfig().with_env(os.environ)
    )
    deduplicate = os.environ.get("ROUTER_DEDUPLICATE_INFLIGHT", "").lower() in ("1", "true")
    return create_app(supergraph_sdl=sdl, config=config, deduplicate_inflight=deduplicate)


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
        ws=WEBSOCKET_PROTOCOL,
    )
    return uvicorn.Server(settings)


async def serve(*, supergraph_sdl: str, config: RouterConfig) -> None:
    """Serve the router in the running event loop until the server is stopped."""
    await uvicorn_server(supergraph_sdl=supergraph_sdl, config=config).serve()
