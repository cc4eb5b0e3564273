"""Which failed subgraph fetches are retried, and after how long.

In: a ``SubgraphFetchError`` and the attempt number. Out: retry or not, and the delay. Only
queries are retried (a mutation may have taken effect before the failure); only failures a
second attempt may cure: connection errors (``SUBGRAPH_UNAVAILABLE``), timeouts
(``SUBGRAPH_TIMEOUT``) and HTTP 5xx answers without a GraphQL body. Delays grow
exponentially with full jitter, so retries from many router workers do not arrive in step.
"""

from __future__ import annotations

import random
import re

from router import errors
from router.observability.config import RetryConfig

_HTTP_5XX = re.compile(r"\bHTTP 5\d\d\b")


def retryable(error: errors.SubgraphFetchError) -> bool:
    """Whether another attempt may succeed where this one failed."""
    if error.code in (errors.SUBGRAPH_UNAVAILABLE, errors.SUBGRAPH_TIMEOUT):
        return True
    # The fetcher reports the status only in its message ("returned HTTP 503 ...").
    return error.code == errors.SUBGRAPH_BAD_RESPONSE and bool(_HTTP_5XX.search(str(error)))


def is_query_body(body: object) -> bool:
    """Whether a subgraph request body (JSON, ``query`` first) holds a query operation."""
    if not isinstance(body, bytes | bytearray):
        return False
    head = bytes(body[:48]).lstrip()
    for prefix in (b'{"query":"', b'{"query": "'):
        if head.startswith(prefix):
            operation = head[len(prefix) :].lstrip(b" \\n")
            return operation.startswith((b"query", b"{"))
    return False


def backoff_delay(config: RetryConfig, attempt: int) -> float:
    """The delay before retry number ``attempt`` (1-based): full jitter up to the cap."""
    ceiling = min(config.backoff * 2 ** (attempt - 1), config.max_backoff)
    return random.uniform(0, ceiling)  # nosec B311: jitter, not cryptography
