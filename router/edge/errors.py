"""The codes the request edge answers with (Apollo Router's names) and which of them are
HTTP-level: sent with their own status whatever media type the client accepts."""

from __future__ import annotations

from router.errors import RequestError

CSRF_ERROR = "CSRF_ERROR"
INVALID_GRAPHQL_REQUEST = "INVALID_GRAPHQL_REQUEST"
REQUEST_RATE_LIMITED = "REQUEST_RATE_LIMITED"
BATCHING_NOT_ENABLED = "BATCHING_NOT_ENABLED"
BATCH_LIMIT_EXCEEDED = "BATCH_LIMIT_EXCEEDED"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
PERSISTED_QUERY_NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
QUERY_NOT_IN_SAFELIST = "QUERY_NOT_IN_SAFELIST"
PERSISTED_QUERY_ID_REQUIRED = "PERSISTED_QUERY_ID_REQUIRED"
CANNOT_SEND_PQ_ID_AND_BODY = "CANNOT_SEND_PQ_ID_AND_BODY"
MAX_DEPTH_LIMIT = "MAX_DEPTH_LIMIT"
MAX_HEIGHT_LIMIT = "MAX_HEIGHT_LIMIT"
MAX_ROOT_FIELDS_LIMIT = "MAX_ROOT_FIELDS_LIMIT"
MAX_ALIASES_LIMIT = "MAX_ALIASES_LIMIT"
COST_ESTIMATED_TOO_EXPENSIVE = "COST_ESTIMATED_TOO_EXPENSIVE"

HTTP_LEVEL_CODES = frozenset(
    {
        CSRF_ERROR,
        INVALID_GRAPHQL_REQUEST,
        REQUEST_RATE_LIMITED,
        BATCHING_NOT_ENABLED,
        BATCH_LIMIT_EXCEEDED,
        PERSISTED_QUERY_NOT_FOUND,
        PERSISTED_QUERY_HASH_MISMATCH,
        PERSISTED_QUERY_NOT_SUPPORTED,
        PERSISTED_QUERY_NOT_IN_LIST,
        QUERY_NOT_IN_SAFELIST,
        PERSISTED_QUERY_ID_REQUIRED,
        CANNOT_SEND_PQ_ID_AND_BODY,
    }
)

DONT_CACHE = {"cache-control": "private, no-cache, must-revalidate"}
"""Persisted query errors must not be cached by clients or CDNs (Apollo Router does the same)."""


def edge_error(
    message: str, *, code: str, status: int = 400, headers: dict[str, str] | None = None
) -> RequestError:
    """A request error raised by the edge."""
    return RequestError(message, code=code, status=status, headers=headers)
