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
- ``INTERNAL_SERVER_ERROR``: an unexpected router failure (details only in the log).

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
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.errors = errors or [graphql_error(message, code=code)]


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
