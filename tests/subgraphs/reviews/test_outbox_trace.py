"""ReviewPosted is staged with the trace context of the request that posted the review."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

from shared import telemetry
from subgraphs.reviews.models import outbox
from tests.conftest import bearer, gql
from tests.subgraphs.reviews.test_api import CUSTOMER, POST, deliver, review_input

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    telemetry.configure(service_name="test", exporter=exporter)
    yield exporter
    telemetry.shutdown()


async def test_the_outbox_row_carries_the_posting_requests_trace(
    spans, start_subgraph, bus, settings
) -> None:
    reviews = await start_subgraph("reviews", load_demo_data=False)
    await deliver(bus, "ord_1")
    headers = {**bearer(settings, CUSTOMER, "CUSTOMER"), "traceparent": CALLER}
    await gql(reviews, POST, review_input(), headers=headers)
    async with reviews.runtime.db.session() as session:
        [stored] = await session.scalars(
            select(outbox.c.traceparent).where(outbox.c.type == "ReviewPosted")
        )
    assert stored.split("-")[1] == CALLER.split("-")[1]
