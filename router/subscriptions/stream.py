"""One client subscription through the query plan, independent of the transport.

In: a subscription operation, its variables and the caller's verified claims. ``open_stream``
does everything that can refuse the request before anything starts (parse, validate, coerce
variables, limits, authorization directives, plan) and raises ``RequestError``.
Out: a ``SubscriptionStream``: ``attach`` a ``Subscriber`` (the WebSocket pushes each event
straight to its connection) or iterate ``payloads()``/``responses()`` (multipart), one GraphQL
response per event.

The plan of a subscription is the plan of a query whose root fetch is the subscription: the
root ``FetchNode`` (``operation_kind == "subscription"``) goes to the owning subgraph over
``graphql-transport-ws``; each event's data then takes the place of that fetch's result, the
rest of the plan (``_entities`` fetches to other subgraphs) runs for it and the response is
shaped as for a query — once per event for all identical subscriptions (``hub``). A queued
subscriber keeps a bounded buffer (oldest dropped: every event carries the whole entity, so
the latest state wins), so a slow client never holds up the subgraph connection or other
clients. The stream ends with the upstream ``complete``, or with ``TokenExpired`` when the
caller's token expires.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode

from router import errors
from router.plan import FetchNode, PlanNode, SequenceNode
from router.subscriptions.hub import SharedSubscription, Subscriber, SubscriptionHub
from router.subscriptions.options import SubscriptionOptions

if TYPE_CHECKING:
    from router.gateway import Gateway, PlannedOperation
    from router.operation import PreparedOperation

TOKEN_EXPIRED = "The access token expired; subscribe again with a fresh token."


class TokenExpired(Exception):
    """The caller's token expired while the stream was open."""


def expired_error() -> dict[str, Any]:
    """The GraphQL error ending a stream whose token expired."""
    return errors.graphql_error(TOKEN_EXPIRED, code="UNAUTHENTICATED")


@dataclass(frozen=True, slots=True)
class SubscriptionPlan:
    """The root subscription fetch and what runs for each of its events."""

    root: FetchNode
    per_event: PlanNode | None
    root_field: str = ""
    """The client's root field as a coordinate (``Subscription.driverPosition``)."""


def split_plan(planned: PlannedOperation, *, root_field: str = "") -> SubscriptionPlan:
    """The subscription fetch of a subscription's plan and the nodes that follow it."""
    node = planned.plan.node
    if isinstance(node, FetchNode) and node.operation_kind == "subscription":
        return SubscriptionPlan(root=node, per_event=None, root_field=root_field)
    if isinstance(node, SequenceNode) and node.nodes:
        first = node.nodes[0]
        if isinstance(first, FetchNode) and first.operation_kind == "subscription":
            rest = node.nodes[1:]
            per_event = None if not rest else rest[0] if len(rest) == 1 else SequenceNode(rest)
            return SubscriptionPlan(root=first, per_event=per_event, root_field=root_field)
    raise errors.RequestError(
        "Query planning failed: a subscription must start with one subgraph subscription",
        code=errors.QUERY_PLANNING_FAILED,
        status=500,
    )


class QueuedSubscriber:
    """A subscriber read by awaiting: a bounded buffer (oldest dropped) and a wake-up event."""

    def __init__(self, buffer_size: int) -> None:
        self._buffer: deque[bytes | None] = deque(maxlen=max(1, buffer_size))
        self._ready = asyncio.Event()
        self.dropped = 0

    def push(self, payload: bytes) -> None:
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped += 1
        self._buffer.append(payload)
        self._ready.set()

    def end(self) -> None:
        # The end marker survives a full buffer: it replaces the oldest event.
        self.push(None)  # type: ignore[arg-type]

    async def payloads(self, expires_at: float | None) -> AsyncIterator[bytes]:
        """Each event's response (JSON) until the end; raises ``TokenExpired`` at ``expires_at``."""
        while True:
            while not self._buffer:
                self._ready.clear()
                timeout = None if expires_at is None else expires_at - time.time()
                if timeout is not None and timeout <= 0:
                    raise TokenExpired
                try:
                    await asyncio.wait_for(self._ready.wait(), timeout=timeout)
                except TimeoutError:
                    raise TokenExpired from None
            item = self._buffer.popleft()
            if item is None:
                return
            yield item


class SubscriptionStream:
    """An accepted client subscription: ``attach`` a subscriber (or iterate ``responses()``)
    once, then ``aclose()``."""

    def __init__(
        self,
        *,
        hub: SubscriptionHub,
        query: str,
        operation_name: str | None,
        planned: PlannedOperation,
        plan: SubscriptionPlan,
        variables: dict[str, Any],
        headers: Mapping[str, str],
        claims: Mapping[str, Any] | None,
        initial_errors: list[dict[str, Any]],
    ) -> None:
        self.hub = hub
        self.query = query
        self.operation_name = operation_name
        self.planned = planned
        self.plan = plan
        self.variables = variables
        self.headers = dict(headers)
        self.claims = claims
        self.initial_errors = initial_errors
        self.expires_at: float | None = None
        exp = (claims or {}).get("exp")
        if isinstance(exp, int | float):
            self.expires_at = float(exp)
        self.subscriber: Subscriber | None = None
        self.shared: SharedSubscription | None = None

    def attach(self, subscriber: Subscriber) -> None:
        """Start receiving: ``subscriber`` gets every event from now on."""
        if self.subscriber is not None:
            raise RuntimeError("a subscription stream is attached once")
        self.subscriber = subscriber
        self.shared = self.hub.attach(
            subscriber,
            query=self.query,
            operation_name=self.operation_name,
            planned=self.planned,
            plan=self.plan,
            variables=self.variables,
            headers=self.headers,
            claims=self.claims,
            initial_errors=self.initial_errors,
        )

    async def responses(self) -> AsyncIterator[dict[str, Any]]:
        """Each event's response until the subgraph completes; raises ``TokenExpired``."""
        async for payload in self.payloads():
            yield orjson.loads(payload)

    async def payloads(self) -> AsyncIterator[bytes]:
        """Each event's response as JSON until the subgraph completes; raises ``TokenExpired``."""
        queue = QueuedSubscriber(self.hub.options.buffer_size)
        self.attach(queue)
        async for payload in queue.payloads(self.expires_at):
            yield payload

    def close(self) -> None:
        """Leave the shared subscription (its subgraph subscription closes with the last)."""
        if self.shared is not None and self.subscriber is not None:
            self.hub.detach(self.subscriber, self.shared)
            self.shared = None

    async def aclose(self) -> None:
        """``close()``, for ``async with``-style callers."""
        self.close()


async def open_stream(
    gateway: Gateway,
    *,
    query: str,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    headers: Mapping[str, str],
    claims: Mapping[str, Any] | None,
    options: SubscriptionOptions | None = None,
    hub: SubscriptionHub | None = None,
) -> SubscriptionStream:
    """Validate, authorize and plan a subscription; raises ``RequestError`` when refused.

    Streams of one ``hub`` (one per router app) share identical subgraph subscriptions;
    without one, the stream gets a hub of its own.
    """
    prepared = gateway.prepare(query, operation_name)
    if prepared.kind != "subscription":
        raise errors.RequestError(
            f"Expected a subscription operation, got a {prepared.kind}",
            code=errors.GRAPHQL_VALIDATION_FAILED,
        )
    values = gateway.coerce_variables(prepared, variables or {})
    gateway.limits.check(prepared, values)
    authorized = await gateway.auth.authorize((query, operation_name), prepared, claims)
    if authorized.empty:
        raise errors.RequestError(
            "Unauthorized field or type",
            code="UNAUTHORIZED_FIELD_OR_TYPE",
            errors=[dict(e) for e in authorized.errors],
        )
    if hub is None:
        hub = SubscriptionHub(gateway, options or SubscriptionOptions())
    hub.check_capacity()
    planned = gateway.plan_for(query, operation_name, prepared, values, authorized)
    return SubscriptionStream(
        hub=hub,
        query=query,
        operation_name=operation_name,
        planned=planned,
        plan=split_plan(planned, root_field=_root_field(gateway, prepared)),
        variables=values,
        headers=headers,
        claims=claims,
        initial_errors=[dict(e) for e in authorized.errors],
    )


def _root_field(gateway: Gateway, prepared: PreparedOperation) -> str:
    """The subscription's one root field as a coordinate (``Subscription.orderUpdated``)."""
    selections = list(prepared.operation.selection_set.selections)
    while selections:
        node = selections.pop(0)
        if isinstance(node, FieldNode):
            root = gateway.schema.subscription_type
            return f"{root.name if root else 'Subscription'}.{node.name.value}"
        if isinstance(node, InlineFragmentNode):
            selections[:0] = node.selection_set.selections
        elif isinstance(node, FragmentSpreadNode) and node.name.value in prepared.fragments:
            selections[:0] = prepared.fragments[node.name.value].selection_set.selections
    return ""
