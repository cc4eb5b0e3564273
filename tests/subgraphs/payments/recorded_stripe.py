"""Stripe's HTTP layer replaced by recorded responses (``fixtures/stripe/*.json``).

``RecordedStripe`` is a ``stripe.HTTPClient`` (the SDK's documented extension point for a
custom ``http_client``): it answers the SDK's requests in order from queued fixtures and
keeps every request it was sent (method, path, form fields, headers) for assertions.
``time_out()`` queues what the SDK's own clients raise when a request times out.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "stripe"
TIMEOUT = object()


def fixture(name: str) -> dict[str, Any]:
    """A recorded Stripe response body or event."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class SentRequest:
    """One request the SDK sent."""

    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


class RecordedStripe(stripe.HTTPClient):
    """Replays queued responses; records requests."""

    name = "recorded"

    def __init__(self) -> None:
        super().__init__()
        self._answers: list[Any] = []
        self.requests: list[SentRequest] = []

    def replay(self, name: str, *, status: int = 200) -> RecordedStripe:
        """Answer the next request with fixture ``name`` and HTTP ``status``."""
        self._answers.append((fixture(name), status))
        return self

    def time_out(self) -> RecordedStripe:
        """Let the next request time out."""
        self._answers.append(TIMEOUT)
        return self

    async def request_async(
        self, method: str, url: str, headers: Any, post_data: Any = None
    ) -> tuple[bytes, int, dict[str, str]]:
        self.requests.append(
            SentRequest(
                method=method.upper(),
                path=urlsplit(url).path,
                form=dict(parse_qsl(post_data or "", keep_blank_values=True)),
                headers={k.lower(): v for k, v in dict(headers).items()},
            )
        )
        if not self._answers:
            raise AssertionError(f"unexpected Stripe request {method.upper()} {url}")
        answer = self._answers.pop(0)
        if answer is TIMEOUT:
            # What stripe.HTTPXClient raises for httpx.ReadTimeout and other network errors.
            raise stripe.APIConnectionError("Request timed out (recorded).", should_retry=True)
        body, status = answer
        return (
            json.dumps(body).encode(),
            status,
            {
                "request-id": f"req_recorded_{len(self.requests)}",
                "content-type": "application/json",
            },
        )

    def sleep_async(self, secs: float):
        return asyncio.sleep(0)  # the SDK's retry backoff, without the wait

    async def close_async(self) -> None:
        return None

    def request(self, *args: Any, **kwargs: Any):
        raise AssertionError("the gateway must use the SDK's async methods")

    def close(self) -> None:
        return None
