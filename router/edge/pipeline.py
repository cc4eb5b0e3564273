"""The request edge in front of the gateway: one object the HTTP server calls at fixed points.

Order for each ``/graphql`` request (CORS is middleware around the whole app):
1. ``admit``: CSRF prevention, then rate limits (429 before any body is read).
2. ``read_body`` / ``check_query_string``: ``limits.http_max_request_bytes`` (413).
3. ``check_batch``: JSON array bodies (``batching``), charging one token per operation.
4. ``resolve``: APQ and the persisted query list turn ids into query text, and freeform
   GraphQL is checked against the safelist (always for partners).
5. The gateway then prepares the operation and ``OperationLimits`` (cached per prepared
   operation) enforces depth/height/root field/alias limits and demand control.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

import orjson
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.websockets import WebSocket

from router.edge import errors as codes
from router.edge.apq import AutomaticPersistedQueries
from router.edge.config import EdgeConfig
from router.edge.cors import cors_middleware, websocket_origin_allowed
from router.edge.csrf import CsrfPrevention
from router.edge.rate_limit import KeyFunction, RateLimiter, default_client_key
from router.edge.safelist import (
    ClaimsPartnerPolicy,
    PartnerPolicy,
    PersistedQueryList,
    client_name,
    is_introspection_only,
)
from router.errors import BAD_REQUEST, RequestError

logger = logging.getLogger("router.edge")

MAX_ID_LENGTH = 256
"""Longest persisted query id or APQ hash accepted (SHA-256 hex is 64)."""
Authenticate = Callable[[Mapping[str, str]], Awaitable[Mapping[str, Any] | None]]


class Edge:
    """CORS, CSRF, rate limits, body limits, batching, APQ and the safelist."""

    def __init__(
        self,
        config: EdgeConfig,
        *,
        introspection: bool = True,
        partner_policy: PartnerPolicy | None = None,
        client_key: KeyFunction = default_client_key,
        authenticate: Authenticate | None = None,
    ) -> None:
        self.config = config
        self.authenticate = authenticate
        self.introspection = introspection
        self.csrf = CsrfPrevention(config.csrf)
        self.rate_limiter = (
            RateLimiter(config.rate_limits, client_key=client_key)
            if config.rate_limits.enabled
            else None
        )
        self.apq = AutomaticPersistedQueries(config.apq) if config.apq.enabled else None
        pq = config.persisted_queries
        self.pql = PersistedQueryList.from_files(pq.local_manifests) if pq.local_manifests else None
        self.partners: PartnerPolicy = partner_policy or ClaimsPartnerPolicy(pq.partners)
        self.max_bytes = config.limits.http_max_request_bytes
        self.needs_claims = authenticate is not None and (
            partner_policy is not None
            or bool(pq.partners.roles)
            or config.rate_limits.client is not None
        )

    def middleware(self) -> list[Middleware]:
        """ASGI middleware for the app (CORS)."""
        return [cors_middleware(self.config.cors)]

    async def stop(self) -> None:
        """Close Redis connections."""
        if self.apq is not None:
            await self.apq.close()
        if self.rate_limiter is not None:
            await self.rate_limiter.close()

    # 1. Before the body
    async def admit(self, request: Request) -> None:
        """CSRF prevention and rate limits."""
        self.csrf.check(request.headers)
        if self.needs_claims:
            await self.claims(request)
        if self.rate_limiter is not None:
            await self.rate_limiter.check(request)

    async def admit_websocket(self, websocket: WebSocket) -> None:
        """A WebSocket upgrade: its ``Origin`` (CORS does not cover WebSockets), rate limits."""
        headers = websocket.headers
        if not websocket_origin_allowed(
            self.config.cors, headers.get("origin"), headers.get("host")
        ):
            raise RequestError(
                "This origin may not open WebSockets to the router", code="FORBIDDEN", status=403
            )
        if self.rate_limiter is not None:
            await self.rate_limiter.check(websocket)

    async def admit_operation(self, websocket: WebSocket) -> None:
        """One operation started on a WebSocket counts as one request for the rate limits."""
        if self.rate_limiter is not None:
            await self.rate_limiter.check(websocket)

    async def claims(self, request: Request) -> Mapping[str, Any] | None:
        """Verified claims, left on ``request.state.claims`` for partner and client keys.

        Taken from ``request.state.claims`` when the authentication layer already put them
        there, else from ``authenticate`` (an invalid token counts as anonymous here: the
        gateway refuses it with ``UNAUTHENTICATED``).
        """
        known = getattr(request.state, "claims", _UNSET)
        if known is not _UNSET:
            return cast("Mapping[str, Any] | None", known)
        claims = None
        if self.authenticate is not None:
            try:
                claims = await self.authenticate(request.headers)
            except Exception:
                claims = None
        request.state.claims = claims
        return claims

    # 2. Size
    def check_query_string(self, request: Request) -> None:
        """413 for a GET whose query string is over the byte limit."""
        if len(request.scope.get("query_string", b"")) > self.max_bytes:
            raise _too_large("Request query payload too large")

    async def read_body(self, request: Request) -> bytes:
        """The body, refusing (413) more than ``limits.http_max_request_bytes``."""
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise _too_large("Request body payload too large")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_bytes:
                raise _too_large("Request body payload too large")
            chunks.append(chunk)
        return b"".join(chunks)

    # 3. Batches
    async def check_batch(self, request: Request, batch: list[Any]) -> None:
        """Refuse batches when batching is off or the batch is too big; charge its size."""
        batching = self.config.batching
        if not batching.enabled:
            raise RequestError("batching not enabled", code=codes.BATCHING_NOT_ENABLED, status=400)
        if not batch:
            raise RequestError("An empty batch is not a GraphQL request", code=BAD_REQUEST)
        if batching.maximum_size is not None and len(batch) > batching.maximum_size:
            raise RequestError(
                f"Batch limits exceeded: you provided a batch with {len(batch)} entries, but "
                f"the configured maximum router batch size is {batching.maximum_size}",
                code=codes.BATCH_LIMIT_EXCEEDED,
                status=400,
            )
        if self.rate_limiter is not None and len(batch) > 1:
            await self.rate_limiter.check(request, cost=len(batch) - 1)

    # 4. Persisted queries
    async def resolve(self, source: Any, request: Request) -> Any:
        """``source`` with ``query`` filled in from APQ or the manifest, after the safelist."""
        if not isinstance(source, dict):
            return source  # the server reports the malformed request
        extensions = _extensions(source.get("extensions"))
        persisted = extensions.get("persistedQuery") if extensions else None
        raw_query = source.get("query")
        query = raw_query if isinstance(raw_query, str) and raw_query.strip() else None
        has_query = query is not None
        pq = self.config.persisted_queries
        partner = self.partners.is_partner(request)
        use_list = self.pql is not None and (pq.enabled or partner)
        restricted = partner or (pq.enabled and pq.safelist_enabled)
        require_id = (pq.enabled and pq.safelist_enabled and pq.require_id) or (
            partner and pq.partners.require_id
        )
        if persisted is not None:
            sha = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
            if not isinstance(sha, str) or not sha or len(sha) > MAX_ID_LENGTH:
                raise RequestError(
                    "extensions.persistedQuery.sha256Hash must be a string of at most "
                    f"{MAX_ID_LENGTH} characters",
                    code=BAD_REQUEST,
                )
            if not has_query:
                if use_list and self.pql is not None:
                    body = self.pql.body_for(sha, client_name(request))
                    if body is not None:
                        return {**source, "query": body}
                if self.apq is not None and not restricted:
                    return {**source, "query": await self.apq.lookup(sha)}
                if use_list or restricted:
                    raise RequestError(
                        f"Persisted query '{sha}' not found in the persisted query list",
                        code=codes.PERSISTED_QUERY_NOT_IN_LIST,
                        status=404,
                        headers=dict(codes.DONT_CACHE),
                    )
                raise _not_supported()
            assert query is not None
            if self.apq is not None and not restricted:
                await self.apq.register(sha, query)
            elif restricted or use_list:
                raise RequestError(
                    "Sending a persisted query ID and a body in the same request is disallowed",
                    code=codes.CANNOT_SEND_PQ_ID_AND_BODY,
                    status=400,
                )
            else:
                raise _not_supported()
        if query is None:
            return source
        if require_id:
            self._log_unknown(query)
            raise RequestError(
                "This endpoint does not allow freeform GraphQL requests; operations must be "
                "sent by ID in the persisted queries GraphQL extension.",
                code=codes.PERSISTED_QUERY_ID_REQUIRED,
                status=400,
            )
        listed = self.pql is not None and self.pql.allows(query)
        if restricted and not listed:
            if self.introspection and is_introspection_only(query):
                return source
            self._log_unknown(query)
            raise RequestError(
                "The operation body was not found in the persisted query safelist",
                code=codes.QUERY_NOT_IN_SAFELIST,
                status=403,
                headers=dict(codes.DONT_CACHE),
            )
        if use_list and not listed:
            self._log_unknown(query)
        return source

    def _log_unknown(self, query: str) -> None:
        if self.config.persisted_queries.log_unknown:
            logger.warning("unknown operation: %s", query[:2000])


_UNSET = object()


def _extensions(value: Any) -> Mapping[str, Any] | None:
    """``extensions`` from a JSON body (an object) or a GET parameter (JSON text)."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError as error:
            raise RequestError("extensions must be JSON", code=BAD_REQUEST) from error
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RequestError("extensions must be a JSON object", code=BAD_REQUEST)
    return value


def _too_large(message: str) -> RequestError:
    return RequestError(
        message,
        code=codes.INVALID_GRAPHQL_REQUEST,
        status=413,
        errors=[
            {
                "message": message,
                "extensions": {"code": codes.INVALID_GRAPHQL_REQUEST, "details": message},
            }
        ],
    )


def _not_supported() -> RequestError:
    return RequestError(
        "PersistedQueryNotSupported", code=codes.PERSISTED_QUERY_NOT_SUPPORTED, status=400
    )
