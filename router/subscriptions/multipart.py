"""Clients over Apollo's multipart HTTP subscription protocol.

In: ``POST /graphql`` of a subscription with ``Accept: multipart/mixed;subscriptionSpec="1.0"``.
Out: ``multipart/mixed;boundary="graphql";subscriptionSpec="1.0"``: a heartbeat part ``{}``
every ``heartbeat`` seconds, one part ``{"payload": <response>}`` per event and the closing
boundary when the subgraph completes. A stream that ends abnormally (expired token, internal
error) sends a last part ``{"payload": null, "errors": [...]}`` (transport-level errors, as
the spec says). The response body stops — and the upstream subscription closes — when the
client disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import StreamingResponse

from router import errors
from router.subscriptions.stream import SubscriptionStream, TokenExpired, expired_error

log = logging.getLogger("router.subscriptions")

BOUNDARY = "graphql"
MEDIA_TYPE = f'multipart/mixed;boundary="{BOUNDARY}";subscriptionSpec="1.0"'
_PART = b"\r\n--" + BOUNDARY.encode() + b"\r\ncontent-type: application/json\r\n\r\n"
_END = b"\r\n--" + BOUNDARY.encode() + b"--\r\n"


def accepts_multipart_subscriptions(accept: str) -> bool:
    """Whether an ``Accept`` header asks for multipart subscriptions."""
    accept = accept.lower()
    return "multipart/mixed" in accept and "subscriptionspec" in accept


def _part(body: dict[str, Any]) -> bytes:
    return _PART + orjson.dumps(body)


async def _body(stream: SubscriptionStream, heartbeat: float) -> AsyncIterator[bytes]:
    responses = stream.payloads()
    pending: asyncio.Task[bytes] | None = None
    try:
        yield _part({})  # headers and a first part at once: the client knows it is live
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(responses))
            done, _ = await asyncio.wait({pending}, timeout=heartbeat)
            if not done:
                yield _part({})
                continue
            task, pending = pending, None
            try:
                payload = task.result()
            except StopAsyncIteration:
                break
            yield _PART + b'{"payload":' + payload + b"}"
    except TokenExpired:
        yield _part({"payload": None, "errors": [expired_error()]})
    except Exception:
        log.exception("Unexpected error in a multipart subscription")
        error = errors.graphql_error("Internal server error", code=errors.INTERNAL_SERVER_ERROR)
        yield _part({"payload": None, "errors": [error]})
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        with contextlib.suppress(Exception):
            await responses.aclose()  # type: ignore[attr-defined]
        await stream.aclose()
    yield _END


def multipart_response(stream: SubscriptionStream, *, heartbeat: float = 5.0) -> StreamingResponse:
    """The streaming HTTP response of an accepted subscription."""
    return StreamingResponse(
        _body(stream, heartbeat),
        media_type=MEDIA_TYPE,
        headers={"cache-control": "no-cache"},
    )
