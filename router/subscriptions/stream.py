"""One client subscription through the query plan, independent of the transport.

In: a subscription operation, its variables and the caller's verified claims. ``open_stream``
does everything that can refuse the request before anything starts (parse, validate, coerce
variables, limits, authorization directives, plan) and raises ``RequestError``.
Out: a ``SubscriptionStream`` whose iteration yields one GraphQL response per event.

The plan of a subscription is the plan of a query whose root fetch is the subscription: the
root ``FetchNode`` (``operation_kind == "subscription"``) goes to the owning subgraph over
``graphql-transport-ws`` (``UpstreamSubscription``); each event's data then takes the place of
that fetch's result and the rest of the plan (``_entities`` fetches to other subgraphs) runs
for it, then the response is shaped as for a query. A reader task fills a bounded buffer
(oldest dropped: every event carries the whole entity, so the latest state wins), so a slow
client never holds up the subgraph connection or other clients. The stream ends with the
upstream ``complete``, or with ``TokenExpired`` when the caller's token expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from router import errors
from router.executor import _Execution  # the per-request execution state, seeded per event
from router.plan import FetchNode, PlanNode, SequenceNode
from router.response import shape_data
from router.subscriptions.options import SubscriptionOptions
from router.subscriptions.upstream import UpstreamSubscription

if TYPE_CHECKING:
    from router.gateway import Gateway, PlannedOperation

log = logging.getLogger("router.subscriptions")

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


def split_plan(planned: PlannedOperation) -> SubscriptionPlan:
    """The subscription fetch of a subscription's plan and the nodes that follow it."""
    node = planned.plan.node
    if isinstance(node, FetchNode) and node.operation_kind == "subscription":
        return SubscriptionPlan(root=node, per_event=None)
    if isinstance(node, SequenceNode) and node.nodes:
        first = node.nodes[0]
        if isinstance(first, FetchNode) and first.operation_kind == "subscription":
            rest = node.nodes[1:]
            per_event = None if not rest else rest[0] if len(rest) == 1 else SequenceNode(rest)
            return SubscriptionPlan(root=first, per_event=per_event)
    raise errors.RequestError(
        "Query planning failed: a subscription must start with one subgraph subscription",
        code=errors.QUERY_PLANNING_FAILED,
        status=500,
    )


class SubscriptionStream:
    """An accepted subscription; iterate ``responses()`` once, then ``aclose()``."""

    def __init__(
        self,
        *,
        gateway: Gateway,
        planned: PlannedOperation,
        plan: SubscriptionPlan,
        variables: dict[str, Any],
        headers: Mapping[str, str],
        claims: Mapping[str, Any] | None,
        initial_errors: list[dict[str, Any]],
        options: SubscriptionOptions,
    ) -> None:
        self.gateway = gateway
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
        self._buffer: deque[dict[str, Any] | None] = deque(maxlen=max(1, options.buffer_size))
        self._ready = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None
        self.dropped = 0
        root = plan.root
        self.upstream = UpstreamSubscription(
            service=root.service_name,
            url=gateway.supergraph.subgraphs[root.service_name].url,
            operation=root.operation,
            operation_name=root.operation_name,
            variables={n: variables[n] for n in root.variable_usages if n in variables},
            headers=self._upstream_headers,
            give_up_after=options.resubscribe_give_up_seconds,
            tls=gateway.subgraph_tls,
        )

    def _forwarded(self) -> dict[str, str]:
        # Signed again for every use: the claims header lives a minute, a stream longer.
        return self.gateway.auth.forwarded_headers(self.headers, self.claims)

    def _upstream_headers(self) -> dict[str, str]:
        forwarded = self._forwarded()
        return {k: v for k, v in forwarded.items() if k.lower() in _UPSTREAM_HEADERS}

    def _offer(self, item: dict[str, Any] | None) -> None:
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped += 1
        self._buffer.append(item)
        self._ready.set()

    async def _read(self) -> None:
        last: bytes | None = None
        try:
            async for message in self.upstream.messages():
                response = await self._complete(message)
                identity = orjson.dumps(response, option=orjson.OPT_SORT_KEYS)
                if identity == last:  # a resubscription repeats the current state
                    continue
                last = identity
                self._offer(response)
        except Exception:
            log.exception("subscription to %s failed", self.plan.root.service_name)
            self._offer(
                {
                    "data": None,
                    "errors": [
                        errors.graphql_error(
                            "Internal server error", code=errors.INTERNAL_SERVER_ERROR
                        )
                    ],
                }
            )
        finally:
            # The end marker survives a full buffer: it replaces the oldest event.
            self._offer(None)

    async def _complete(self, message: dict[str, Any]) -> dict[str, Any]:
        """One upstream event as the client's response: the rest of the plan, then shaping."""
        service = self.plan.root.service_name
        errs: list[dict[str, Any]] = [dict(e) for e in self.initial_errors]
        for error in message.get("errors") or ():
            if isinstance(error, dict):
                error = dict(error)
                extensions = dict(error.get("extensions") or {})
                extensions.setdefault("serviceName", service)
                error["extensions"] = extensions
                errs.append(error)
        data = message.get("data")
        if not isinstance(data, dict):
            return {"data": None, "errors": errs} if errs else {"data": None}
        if self.plan.per_event is not None:
            fetcher = self.gateway.fetcher
            if fetcher is None:
                raise RuntimeError("Gateway.start() was not awaited")
            execution = _Execution(fetcher, self.variables, self._forwarded())
            execution.data = data
            await execution.run(self.plan.per_event)
            data = execution.data
            errs.extend(execution.errors)
        shaped = shape_data(self.planned.selection, data, errs)
        response: dict[str, Any] = {"data": shaped}
        if errs:
            response["errors"] = errs
        return response

    async def responses(self) -> AsyncIterator[dict[str, Any]]:
        """Each event's response until the subgraph completes; raises ``TokenExpired``."""
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(), name="subscription-reader")
        while True:
            while not self._buffer:
                self._ready.clear()
                timeout = None if self.expires_at is None else self.expires_at - time.time()
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

    async def aclose(self) -> None:
        """Stop reading the subgraph and close its connection."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None


_UPSTREAM_HEADERS = frozenset({"x-pizza-claims", "traceparent", "tracestate"})


async def open_stream(
    gateway: Gateway,
    *,
    query: str,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    headers: Mapping[str, str],
    claims: Mapping[str, Any] | None,
    options: SubscriptionOptions | None = None,
) -> SubscriptionStream:
    """Validate, authorize and plan a subscription; raises ``RequestError`` when refused."""
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
    planned = gateway.plan_for(query, operation_name, prepared, values, authorized)
    return SubscriptionStream(
        gateway=gateway,
        planned=planned,
        plan=split_plan(planned),
        variables=values,
        headers=headers,
        claims=claims,
        initial_errors=[dict(e) for e in authorized.errors],
        options=options or SubscriptionOptions(),
    )
