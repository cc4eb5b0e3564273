"""Shared subscriptions: one subgraph subscription and one execution per event for many clients.

In: accepted client subscriptions (``open_stream``) with their plan, variables and verified
claims. Identical ones — same operation, same variables, same caller identity (the claims but
their times) — join one ``SharedSubscription``: one ``UpstreamSubscription`` at the owning
subgraph, one run of the rest of the plan per event, one JSON serialization per event.
Out: each event's response as JSON bytes, pushed to every ``Subscriber`` without awaiting
any of them (each keeps what it has not sent yet; a slow one never holds up the others).

The caller's identity is part of the key because the subgraph authorizes at subscribe time
and its answer (and every event's data) may depend on who asks. A client joining a running
subscription of a root field listed in ``replay_latest`` gets the latest event at once: for
state streams (an order's stage, a driver's position) that is what a subscription of its own
would have started with. The subgraph subscription closes when its last client leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from router import errors
from router.executor import continue_plan
from router.response import shape_data
from router.subscriptions.options import SubscriptionOptions
from router.subscriptions.upstream import UpstreamSubscription

if TYPE_CHECKING:
    from router.gateway import Gateway, PlannedOperation
    from router.subscriptions.stream import SubscriptionPlan

log = logging.getLogger("router.subscriptions")

_UPSTREAM_HEADERS = frozenset({"x-pizza-claims", "traceparent", "tracestate"})
_TIMES = frozenset({"exp", "iat", "nbf", "jti"})
INTERNAL_ERROR = orjson.dumps(
    {
        "data": None,
        "errors": [
            errors.graphql_error("Internal server error", code=errors.INTERNAL_SERVER_ERROR)
        ],
    }
)


class Subscriber(Protocol):
    """A client's end of a shared subscription; both methods return at once."""

    def push(self, payload: bytes) -> None:
        """One event's response (JSON)."""

    def end(self) -> None:
        """The subscription completed (after its last event)."""


def identity_key(claims: Mapping[str, Any] | None) -> bytes:
    """Who the caller is, as far as a subgraph can tell: the claims without their times."""
    if not claims:
        return b""
    return orjson.dumps(
        {k: v for k, v in claims.items() if k not in _TIMES}, option=orjson.OPT_SORT_KEYS
    )


class SharedSubscription:
    """One subgraph subscription and the clients that receive its events."""

    def __init__(
        self,
        *,
        hub: SubscriptionHub,
        key: tuple[Any, ...],
        planned: PlannedOperation,
        plan: SubscriptionPlan,
        variables: dict[str, Any],
        headers: Mapping[str, str],
        claims: Mapping[str, Any] | None,
        initial_errors: list[dict[str, Any]],
        replay: bool,
    ) -> None:
        self.hub = hub
        self.key = key
        self.planned = planned
        self.plan = plan
        self.variables = variables
        self.headers = dict(headers)
        self.claims = claims
        self.initial_errors = initial_errors
        self.replay = replay
        self.subscribers: dict[Subscriber, None] = {}
        self.latest: bytes | None = None
        self.finished = False
        gateway = hub.gateway
        root = plan.root
        self.upstream = UpstreamSubscription(
            service=root.service_name,
            url=gateway.supergraph.subgraphs[root.service_name].url,
            operation=root.operation,
            operation_name=root.operation_name,
            variables={n: variables[n] for n in root.variable_usages if n in variables},
            headers=self._upstream_headers,
            give_up_after=hub.options.resubscribe_give_up_seconds,
            tls=gateway.subgraph_tls,
        )
        self._reader: asyncio.Task[None] | None = None

    def _forwarded(self) -> dict[str, str]:
        # Signed again for every use: the claims header lives a minute, a stream longer.
        return self.hub.gateway.auth.forwarded_headers(self.headers, self.claims)

    def _upstream_headers(self) -> dict[str, str]:
        return {k: v for k, v in self._forwarded().items() if k.lower() in _UPSTREAM_HEADERS}

    def join(self, subscriber: Subscriber, claims: Mapping[str, Any] | None) -> None:
        """Add a client; it gets the latest event now when this is a state stream."""
        self.subscribers[subscriber] = None
        if _expiry(claims) > _expiry(self.claims):
            self.claims = claims  # the identity is the same; this token lives longer
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(), name="shared-subscription")
        elif self.replay and self.latest is not None:
            subscriber.push(self.latest)

    def leave(self, subscriber: Subscriber) -> None:
        """Remove a client; the subgraph subscription closes with the last one."""
        self.subscribers.pop(subscriber, None)
        if not self.subscribers and not self.finished:
            self.finished = True
            self.hub.forget(self)
            if self._reader is not None:
                self._reader.cancel()

    def _broadcast(self, payload: bytes) -> None:
        for subscriber in list(self.subscribers):
            try:
                subscriber.push(payload)
            except Exception:  # one broken client never stops the others
                log.exception("delivering a subscription event failed")

    async def _read(self) -> None:
        last: bytes | None = None
        try:
            async for message in self.upstream.messages():
                response = await self._complete(message)
                payload = orjson.dumps(response)
                if payload == last:  # a resubscription repeats the current state
                    continue
                last = payload
                if "errors" not in response:
                    self.latest = payload
                self._broadcast(payload)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("subscription to %s failed", self.plan.root.service_name)
            self._broadcast(INTERNAL_ERROR)
        finally:
            if not self.finished:
                self.finished = True
                self.hub.forget(self)
            ended = list(self.subscribers)
            self.hub.opened -= len(ended)
            self.subscribers.clear()
            for subscriber in ended:
                with contextlib.suppress(Exception):
                    subscriber.end()

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
            fetcher = self.hub.gateway.fetcher
            if fetcher is None:
                raise RuntimeError("Gateway.start() was not awaited")
            data, more = await continue_plan(
                self.plan.per_event,
                data=data,
                fetcher=fetcher,
                variables=self.variables,
                headers=self._forwarded(),
            )
            errs.extend(more)
        shaped = shape_data(self.planned.selection, data, errs)
        response: dict[str, Any] = {"data": shaped}
        if errs:
            response["errors"] = errs
        return response


def _expiry(claims: Mapping[str, Any] | None) -> float:
    exp = (claims or {}).get("exp")
    return float(exp) if isinstance(exp, int | float) else float("inf") if claims else 0.0


class SubscriptionHub:
    """The router process's shared subscriptions, by operation, variables and identity."""

    def __init__(self, gateway: Gateway, options: SubscriptionOptions) -> None:
        self.gateway = gateway
        self.options = options
        self.shared: dict[tuple[Any, ...], SharedSubscription] = {}
        self.opened = 0
        """Client subscriptions attached now (``max_opened_subscriptions`` counts these)."""

    def attach(
        self,
        subscriber: Subscriber,
        *,
        query: str,
        operation_name: str | None,
        planned: PlannedOperation,
        plan: SubscriptionPlan,
        variables: dict[str, Any],
        headers: Mapping[str, str],
        claims: Mapping[str, Any] | None,
        initial_errors: list[dict[str, Any]],
    ) -> SharedSubscription:
        """Join ``subscriber`` to the shared subscription it is identical to (or a new one)."""
        self.check_capacity()
        key: tuple[Any, ...] = (
            query,
            operation_name,
            orjson.dumps(variables, option=orjson.OPT_SORT_KEYS),
            identity_key(claims),
        )
        if not self.options.deduplicate:
            key = (*key, id(subscriber))
        shared = self.shared.get(key)
        if shared is None:
            shared = SharedSubscription(
                hub=self,
                key=key,
                planned=planned,
                plan=plan,
                variables=variables,
                headers=headers,
                claims=claims,
                initial_errors=initial_errors,
                replay=plan.root_field in self.options.replay_latest,
            )
            self.shared[key] = shared
        self.opened += 1
        shared.join(subscriber, claims)
        return shared

    def check_capacity(self) -> None:
        """Refuse one more client subscription beyond ``max_opened_subscriptions``."""
        cap = self.options.max_opened_subscriptions
        if cap is not None and self.opened >= cap:
            raise errors.RequestError(
                "The router has too many open subscriptions; try again later",
                code="SUBSCRIPTION_LIMIT",
                status=503,
            )

    def detach(self, subscriber: Subscriber, shared: SharedSubscription) -> None:
        """``subscriber`` left (completed, unsubscribed, disconnected or expired)."""
        if subscriber in shared.subscribers:
            self.opened -= 1
        shared.leave(subscriber)

    def forget(self, shared: SharedSubscription) -> None:
        """A shared subscription ended: identical new ones start afresh."""
        if self.shared.get(shared.key) is shared:
            del self.shared[shared.key]

    @property
    def upstream_count(self) -> int:
        """Subgraph subscriptions open now."""
        return len(self.shared)
