"""Limits and timings of subscriptions: router.yaml ``subscription:`` (``HELP`` below, also in
``python -m router --help``), Apollo Router's names where it has the same setting."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

HELP = """\
Subscriptions (router.yaml; docs/adr/0009-subscriptions.md):
  subscription:
    enable_deduplication: true    # identical subscriptions share one subgraph subscription
    queue_capacity: 32            # events kept per slow client (the oldest dropped)
    max_opened_subscriptions: 20000   # per process; more are refused (SUBSCRIPTION_LIMIT)
    heartbeat_interval: 5s        # ours: multipart heartbeat
    ping_interval: 15s            # ours: graphql-transport-ws ping
    max_operations_per_connection: 100
    init_timeout: 10s
    resubscribe_give_up: 60s
    replay_latest: [Subscription.orderUpdated]  # ours: state streams replayed to joiners
"""


@dataclass(slots=True)
class SubscriptionOptions:
    """How the router serves subscriptions; read when a connection or stream starts."""

    heartbeat_seconds: float = 5.0
    """Multipart: a ``{}`` part this often (Apollo's multipart protocol)."""
    ping_interval_seconds: float = 15.0
    """WebSocket: a ``ping`` this often (thousands of idle trackers cost pings, not events)."""
    max_operations_per_connection: int = 100
    """Operations one WebSocket may run at once; one more closes it with 4429."""
    init_timeout_seconds: float = 10.0
    """WebSocket: time allowed before ``connection_init`` (then 4408)."""
    buffer_size: int = 32
    """Responses kept per slow client before the oldest is dropped (the latest state wins)."""
    resubscribe_give_up_seconds: float = 60.0
    """How long a lost subgraph subscription is retried before the stream ends with an error."""
    deduplicate: bool = True
    """Identical subscriptions (same operation, variables and caller identity) share one
    subgraph subscription and one execution per event (Apollo Router: enable_deduplication)."""
    replay_latest: frozenset[str] = field(default_factory=frozenset)
    """Root fields (``Subscription.orderUpdated``) whose events are whole states: a client
    joining a shared subscription gets the latest event at once, as the subgraph would have
    sent the current state to a subscription of its own. Other fields' events are news."""
    max_opened_subscriptions: int | None = None
    """Client subscriptions open at once in this process; one more is refused (None: no cap)."""

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, parse_duration: Callable[[Any], float]
    ) -> SubscriptionOptions:
        """Read router.yaml's ``subscription:`` section."""
        section = data.get("subscription") or {}
        values: dict[str, Any] = {}
        for key, name in (
            ("heartbeat_interval", "heartbeat_seconds"),
            ("ping_interval", "ping_interval_seconds"),
            ("init_timeout", "init_timeout_seconds"),
            ("resubscribe_give_up", "resubscribe_give_up_seconds"),
        ):
            if section.get(key) is not None:
                values[name] = parse_duration(section[key])
        for key, name in (
            ("queue_capacity", "buffer_size"),
            ("max_operations_per_connection", "max_operations_per_connection"),
            ("max_opened_subscriptions", "max_opened_subscriptions"),
        ):
            if section.get(key) is not None:
                values[name] = int(section[key])
                if values[name] < 1:
                    raise ValueError(f"subscription.{key} must be at least 1")
        if "enable_deduplication" in section:
            values["deduplicate"] = bool(section["enable_deduplication"])
        replay = section.get("replay_latest") or ()
        if isinstance(replay, str) or not all(
            isinstance(c, str) and c.count(".") == 1 for c in replay
        ):
            raise ValueError("subscription.replay_latest: a list of Type.field coordinates")
        values["replay_latest"] = frozenset(replay)
        return cls(**values)
