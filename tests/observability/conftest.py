"""Fixtures for observability tests: the router test subgraphs (tests/router), subgraphs that
can be killed and restarted on their port, and an in-memory span exporter."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from router.config import RouterConfig
from router.server import create_app
from shared import telemetry
from tests.router.conftest import (  # noqa: F401  (fixtures)
    SUBGRAPH_MODULES,
    ThreadedServer,
    free_port,
    http,
    request_log,
    subgraph_urls,
    supergraph_sdl,
)
from tests.router.subgraphs.recording import RequestLog, recording_app


class KillableSubgraph:
    """A test subgraph on a fixed port that a test stops and starts again."""

    def __init__(self, name: str, log: RequestLog) -> None:
        self.name = name
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.server: ThreadedServer | None = None

    def start(self) -> None:
        module = SUBGRAPH_MODULES[self.name]
        app = recording_app(service=self.name, schema=module.schema, log=self.log)
        deadline = time.monotonic() + 10
        while True:  # the port may linger for a moment after a stop
            try:
                self.server = ThreadedServer(app, self.port).start()
                return
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def kill(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


class RunningRouter:
    """A router app served in a thread; its gateway is reachable for white-box checks."""

    def __init__(self, sdl: str, config: RouterConfig) -> None:
        self.app = create_app(supergraph_sdl=sdl, config=config)
        self.server = ThreadedServer(self.app, free_port()).start()
        self.url = f"{self.server.url}/graphql"
        self.base = self.server.url

    @property
    def gateway(self) -> Any:
        return self.app.state.gateway

    def stop(self) -> None:
        self.server.stop()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Spans recorded while the test runs (tracing on, in memory)."""
    exporter = InMemorySpanExporter()
    telemetry.configure(service_name="test", exporter=exporter)
    yield exporter
    telemetry.shutdown()


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of one series in a Prometheus text exposition (None when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None
