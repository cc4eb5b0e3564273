"""ASGI wrapper that records the GraphQL requests a test subgraph receives.

In: a Strawberry schema and a shared ``RequestLog``. Out: an ASGI app whose requests are
appended to the log (service name, parsed JSON body, start and end times).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.federation import Schema


@dataclass(slots=True)
class RecordedRequest:
    """One HTTP request a subgraph received."""

    service: str
    body: dict[str, Any]
    headers: dict[str, str]
    started: float
    ended: float = 0.0

    @property
    def is_entities(self) -> bool:
        """Whether the request is an ``_entities`` fetch."""
        return "_entities" in str(self.body.get("query", ""))


@dataclass(slots=True)
class RequestLog:
    """Thread-safe list of recorded requests, shared by all test subgraphs."""

    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        """Forget every recorded request."""
        with self.lock:
            self.requests.clear()

    def for_service(self, service: str) -> list[RecordedRequest]:
        """Requests received by one subgraph, in arrival order."""
        with self.lock:
            return [r for r in self.requests if r.service == service]

    def entity_calls(self, service: str) -> list[RecordedRequest]:
        """``_entities`` requests received by one subgraph."""
        return [r for r in self.for_service(service) if r.is_entities]


def recording_app(*, service: str, schema: Schema, log: RequestLog) -> Any:
    """Serve ``schema`` at any path, recording each POST body into ``log``."""
    graphql_app = GraphQL(schema, graphql_ide=None)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await graphql_app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        try:
            body = json.loads(raw)
        except ValueError:
            body = {}
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        record = RecordedRequest(
            service=service, body=body, headers=headers, started=time.monotonic()
        )
        with log.lock:
            log.requests.append(record)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        try:
            await graphql_app(scope, replay, send)
        finally:
            record.ended = time.monotonic()

    return app
