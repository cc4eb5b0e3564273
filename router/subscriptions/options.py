"""Limits and timings of subscriptions (``create_app(subscription_options=...)``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class SubscriptionOptions:
    """How the router serves subscriptions; read when a connection or stream starts."""

    heartbeat_seconds: float = 5.0
    """Multipart: a ``{}`` part this often. WebSocket: a ``ping`` this often."""
    max_operations_per_connection: int = 100
    """Operations one WebSocket may run at once; one more closes it with 4429."""
    init_timeout_seconds: float = 10.0
    """WebSocket: time allowed before ``connection_init`` (then 4408)."""
    buffer_size: int = 32
    """Responses kept per slow client before the oldest is dropped (the latest state wins)."""
    resubscribe_give_up_seconds: float = 60.0
    """How long a lost subgraph subscription is retried before the stream ends with an error."""
