"""Fixtures of the payments tests: a migrated runtime with a recording bus and the test gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared import demo_ids
from shared.bus import Event
from shared.settings import Settings
from shared.subgraph import SubgraphRuntime
from subgraphs.payments.config import PaymentsSettings
from subgraphs.payments.gateway import TestGateway
from tests.subgraphs.orders.conftest import RecordingBus

ORDER_ID = "ord_test_1"


def order_placed(
    *, order_id: str = ORDER_ID, token: str | None = "tok_visa", method: str = "CARD", **extra: Any
) -> Event:
    """An OrderPlaced event as orders publishes it: 2 pizzas, fee, tax and tip = 43.02."""
    usd = lambda amount: {"amount": amount, "currency": "USD"}  # noqa: E731
    payload = {
        "orderId": order_id,
        "number": "1125-0001",
        "customerId": demo_ids.CUSTOMER_USER,
        "storeId": demo_ids.STORE_DOWNTOWN,
        "serviceMethod": "DELIVERY",
        "total": usd(4302),
        "paymentMethod": {"type": method, "token": token},
        "deliveryLocation": {"lat": 30.2747, "lng": -97.7404},
        "placedAt": "2026-11-25T18:00:00+00:00",
        "price": {
            "subtotal": usd(3198),
            "discounts": usd(0),
            "deliveryFee": usd(499),
            "surcharge": usd(0),
            "tax": usd(305),
            "tip": usd(300),
            "total": usd(4302),
        },
        "lines": [
            {
                "productId": "prd_pep",
                "description": "Pepperoni Pizza (Large Hand Tossed)",
                "quantity": 2,
                "unitPrice": usd(1599),
                "lineTotal": usd(3198),
            }
        ],
        **extra,
    }
    return Event(type="OrderPlaced", source="orders", payload=payload)


def status_changed(to: str, *, order_id: str = ORDER_ID, frm: str = "PLACED") -> Event:
    """An OrderStatusChanged event as orders publishes it."""
    return Event(
        type="OrderStatusChanged",
        source="orders",
        payload={
            "orderId": order_id,
            "customerId": demo_ids.CUSTOMER_USER,
            "storeId": demo_ids.STORE_DOWNTOWN,
            "serviceMethod": "DELIVERY",
            "from": frm,
            "to": to,
            "at": "2026-11-25T19:00:00+00:00",
            "actor": "usr_x",
        },
    )


@pytest.fixture
def gateway() -> TestGateway:
    """A fresh test gateway."""
    return TestGateway()


@pytest.fixture
def recording_bus() -> RecordingBus:
    """A fresh recording bus."""
    return RecordingBus()


@pytest.fixture
async def runtime(
    settings: Settings, recording_bus: RecordingBus, gateway: TestGateway
) -> AsyncIterator[SubgraphRuntime]:
    """A payments runtime with a migrated database, the recording bus and the test gateway."""
    runtime = SubgraphRuntime.create("payments", settings=settings, bus=recording_bus)
    runtime.extras["payment_gateway"] = gateway
    await runtime.db.migrate()
    yield runtime
    await runtime.db.dispose()


WEBHOOK_SECRET = "whsec_test_0123456789abcdef"


@pytest.fixture
async def payments_app(start_subgraph, gateway: TestGateway):
    """The payments app (``/graphql``, webhooks, invoice PDFs) with a webhook secret and the
    test gateway; ``payments_app.runtime`` is its runtime."""
    client = await start_subgraph("payments")
    client.runtime.extras["payment_gateway"] = gateway
    client.runtime.extras["payments_settings"] = PaymentsSettings(
        payment_gateway="test", payment_webhook_secret=WEBHOOK_SECRET
    )
    return client
