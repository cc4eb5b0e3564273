"""Turns exceptions raised by resolvers into GraphQL errors with ``extensions.code``.

Enters: the execution result of a subgraph operation. Leaves: the same result
whose errors carry a code: a :class:`DomainError`'s own, or a masked
INTERNAL_SERVER_ERROR (logged with its stack trace, never sent to clients).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from shared.errors import DomainError

log = logging.getLogger(__name__)


def coded_error(error: GraphQLError) -> GraphQLError:
    """The client-facing version of one error."""
    original = error.original_error
    if original is None:
        if error.extensions and "code" in error.extensions:
            return error
        code = "GRAPHQL_VALIDATION_FAILED" if error.path is None else "BAD_USER_INPUT"
        return GraphQLError(
            error.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            extensions={**(error.extensions or {}), "code": code},
        )
    if isinstance(original, DomainError):
        return GraphQLError(
            original.message,
            error.nodes,
            error.source,
            error.positions,
            error.path,
            extensions=original.extensions,
        )
    if isinstance(original, GraphQLError) and original.extensions:
        return original
    log.error("unexpected error at %s", error.path, exc_info=original)
    return GraphQLError(
        "Internal server error.",
        error.nodes,
        error.source,
        error.positions,
        error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR"},
    )


class CodedErrors(SchemaExtension):
    """Give every error an ``extensions.code``; hide internal failures."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is not None and result.errors:
            result.errors = [coded_error(e) for e in result.errors]
