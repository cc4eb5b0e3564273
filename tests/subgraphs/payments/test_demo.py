"""payments' demo: the demo orders' payments and invoices (demo.py), and what follows them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from shared.ids import demo_id
from subgraphs.payments import demo, events, service
from subgraphs.payments.models import Invoice
from tests.subgraphs.payments.conftest import status_changed

SEEDED = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
IN_THE_OVEN = demo_id("ord", "casey-4")


async def _invoice_numbers(runtime) -> list[str]:
    async with runtime.db.session() as session:
        return sorted(await session.scalars(select(Invoice.number)))


async def test_the_three_captured_demo_payments_have_invoices_1_to_3(runtime) -> None:
    await demo.seed(runtime, now=SEEDED)
    assert await _invoice_numbers(runtime) == [f"INV-2026-{n:06d}" for n in (1, 2, 3)]


async def test_the_cash_order_in_the_oven_is_captured_at_pickup(runtime, gateway) -> None:
    await demo.seed(runtime, now=SEEDED)
    await events.handle(
        runtime, status_changed("PICKED_UP", order_id=IN_THE_OVEN, frm="READY_FOR_PICKUP")
    )
    async with runtime.db.session() as session:
        payment = await service.payment_for_order(session=session, order_id=IN_THE_OVEN)
    assert payment.status == "CAPTURED" and gateway.operations == []
    assert (await _invoice_numbers(runtime))[-1] == "INV-2026-000004"
