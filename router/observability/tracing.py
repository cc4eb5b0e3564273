"""Router spans besides the fetches: the GraphQL operation and query planning.

Span tree of one request (names as Apollo Router's): ``router`` (the HTTP request,
``router.observability.http``) → ``supergraph`` (one GraphQL operation; several in a batch)
→ ``query_planning`` (only when the plan was not cached) and one ``fetch`` per subgraph fetch
of the plan (``router.observability.fetch``), whose ``traceparent`` the subgraph continues.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shared import telemetry


@contextmanager
def operation_span(operation_name: str | None) -> Iterator[None]:
    """The ``supergraph`` span around one GraphQL operation (nothing when tracing is off)."""
    if not telemetry.enabled():
        yield
        return
    attributes = {"graphql.operation.name": operation_name} if operation_name else {}
    with telemetry.tracer("router").start_as_current_span("supergraph", attributes=attributes):
        yield


class TracedPlanner:
    """Delegating decorator: a ``query_planning`` span around each ``plan`` call."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def plan(self, *args: Any, **kwargs: Any) -> Any:
        if not telemetry.enabled():
            return self.inner.plan(*args, **kwargs)
        with telemetry.tracer("router").start_as_current_span("query_planning"):
            return self.inner.plan(*args, **kwargs)


class CountedCache:
    """Delegating decorator over the plan cache: counts hits and misses of ``get``."""

    def __init__(self, inner: Any, *, hits: Any, misses: Any) -> None:
        self.inner = inner
        self.hits = hits
        self.misses = misses

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def __len__(self) -> int:
        return len(self.inner)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        value = self.inner.get(*args, **kwargs)
        (self.misses if value is None else self.hits).inc()
        return value
