"""Router errors and the ``extensions.code`` values clients see.

In: failures at any stage (supergraph loading, request parsing, validation, planning, subgraph
fetches). Out: exception types and GraphQL error dicts carrying ``extensions.code``.

Codes (Apollo Router names where one exists):

- ``BAD_REQUEST``: the HTTP request is not a GraphQL request (malformed JSON, no query).
- ``GRAPHQL_PARSE_FAILED``: the query text does not parse.
- ``GRAPHQL_VALIDATION_FAILED``: the operation is invalid against the API schema.
- ``GRAPHQL_UNKNOWN_OPERATION_NAME``: ``operationName`` names no operation of the document.
- ``VALIDATION_INVALID_TYPE_VARIABLE``: a variable value does not fit its declared type.
- ``METHOD_NOT_ALLOWED``: a mutation sent over GET (HTTP 405).
- ``QUERY_PLANNING_FAILED``: no plan reaches a selected field (a supergraph the planner
  cannot serve yet).
- ``SUBGRAPH_UNAVAILABLE``: the subgraph could not be reached (connection refused, reset).
- ``SUBGRAPH_TIMEOUT``: the subgraph did not answer within its timeout.
- ``SUBGRAPH_BAD_RESPONSE``: the subgraph answered with a non-2xx status or a body that is
  not a GraphQL JSON response.
- ``SUBGRAPH_CIRCUIT_OPEN``: the subgraph's circuit breaker is open; the fetch failed fast
  (``router.observability.breaker``).
- ``STALE_DATA``: a warning next to data served from the last good response while the
  subgraph fails (``traffic_shaping.subgraphs.<name>.stale_if_error``).
- ``INTERNAL_SERVER_ERROR``: an unexpected router failure (details only in the log).

Request edge (``router.edge``; HTTP status in brackets, sent whatever the ``accept`` header):

- ``CSRF_ERROR`` [400]: a "simple" request (GET, or POST with a form/``text/plain`` content
  type) without one of ``csrf.required_headers``.
- ``INVALID_GRAPHQL_REQUEST`` [413]: the body is over ``limits.http_max_request_bytes``.
- ``REQUEST_RATE_LIMITED`` [429, ``Retry-After``]: a global, per-client or per-IP rate limit.
- ``BATCHING_NOT_ENABLED``, ``BATCH_LIMIT_EXCEEDED`` [400]: a JSON array body.
- ``PERSISTED_QUERY_NOT_FOUND`` [200]: APQ hash unknown; the client resends with the query.
- ``PERSISTED_QUERY_HASH_MISMATCH`` [400]: the APQ ``sha256Hash`` is not the query's.
- ``PERSISTED_QUERY_NOT_SUPPORTED`` [400]: a ``persistedQuery`` extension while APQ is off.
- ``PERSISTED_QUERY_NOT_IN_LIST`` [404]: an id the persisted query manifest does not hold.
- ``QUERY_NOT_IN_SAFELIST`` [403]: freeform GraphQL that the safelist does not hold.
- ``PERSISTED_QUERY_ID_REQUIRED`` [400]: freeform GraphQL where only ids are allowed.
- ``CANNOT_SEND_PQ_ID_AND_BODY`` [400]: an id and a body together without APQ.
- ``MAX_DEPTH_LIMIT``, ``MAX_HEIGHT_LIMIT``, ``MAX_ROOT_FIELDS_LIMIT``, ``MAX_ALIASES_LIMIT``,
  ``COST_ESTIMATED_TOO_EXPENSIVE``: operation limits (status as for validation errors).
- ``INTROSPECTION_DISABLED``: ``__schema``/``__type`` while ``supergraph.introspection`` is
  false (status as for validation errors).

Subgraph failures also carry ``extensions.serviceName``; the parts of the response that
depended on the failed fetch become null.
"""

from __future__ import annotations

from typing import Any

BAD_REQUEST = "BAD_REQUEST"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
GRAPHQL_UNKNOWN_OPERATION_NAME = "GRAPHQL_UNKNOWN_OPERATION_NAME"
VALIDATION_INVALID_TYPE_VARIABLE = "VALIDATION_INVALID_TYPE_VARIABLE"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
QUERY_PLANNING_FAILED = "QUERY_PLANNING_FAILED"
SUBGRAPH_UNAVAILABLE = "SUBGRAPH_UNAVAILABLE"
SUBGRAPH_TIMEOUT = "SUBGRAPH_TIMEOUT"
SUBGRAPH_BAD_RESPONSE = "SUBGRAPH_BAD_RESPONSE"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
INTROSPECTION_DISABLED = "INTROSPECTION_DISABLED"


class SupergraphError(ValueError):
    """The supergraph SDL cannot be loaded."""


class PlanningError(Exception):
    """The planner cannot reach a selected field from the subgraphs."""


class RequestError(Exception):
    """A client request the router refuses before execution, with its code and HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int = 400,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.errors = errors or [graphql_error(message, code=code)]
        self.headers = headers
        """Extra response headers (``Retry-After``, ``Cache-Control``)."""


class SubgraphFetchError(Exception):
    """A subgraph fetch failed as a whole (transport, status or body)."""

    def __init__(self, message: str, *, code: str, service: str) -> None:
        super().__init__(message)
        self.code = code
        self.service = service

    def to_graphql(self, path: list[str | int] | None = None) -> dict[str, Any]:
        """The GraphQL error clients receive for this failure."""
        return graphql_error(
            str(self), code=self.code, path=path, extra={"serviceName": self.service}
        )


def graphql_error(
    message: str,
    *,
    code: str | None = None,
    path: list[str | int] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A GraphQL error dict with ``extensions.code``."""
    error: dict[str, Any] = {"message": message}
    if path is not None:
        error["path"] = path
    extensions: dict[str, Any] = {}
    if code is not None:
        extensions["code"] = code
    if extra:
        extensions.update(extra)
    if extensions:
        error["extensions"] = extensions
    return error
