"""GraphQL subscriptions at the router (ADR 0009).

Clients subscribe over ``graphql-transport-ws`` (``websocket``) or Apollo's multipart HTTP
protocol (``multipart``); both hand the operation to ``stream.open_stream``, which validates,
authorizes and plans it like a query whose root fetch is the subgraph subscription
(``upstream``), then resolves the rest of each event's selection through the plan. Identical
subscriptions share one subgraph subscription and one execution per event (``hub``).
"""

from router.subscriptions.hub import SubscriptionHub
from router.subscriptions.multipart import accepts_multipart_subscriptions, multipart_response
from router.subscriptions.options import SubscriptionOptions
from router.subscriptions.stream import SubscriptionStream, TokenExpired, open_stream
from router.subscriptions.websocket import websocket_endpoint

__all__ = [
    "SubscriptionHub",
    "SubscriptionOptions",
    "SubscriptionStream",
    "TokenExpired",
    "accepts_multipart_subscriptions",
    "multipart_response",
    "open_stream",
    "websocket_endpoint",
]
