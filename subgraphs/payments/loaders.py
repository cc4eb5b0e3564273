"""DataLoaders of the payments subgraph: one query per batch, per request."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from shared.subgraph import SubgraphRuntime
from subgraphs.payments.models import Invoice, Payment


@dataclass
class Loaders:
    """The loaders of one request, keyed by order id."""

    payment_by_order: DataLoader[str, Payment | None]
    invoice_by_order: DataLoader[str, Invoice | None]


def create_loaders(runtime: SubgraphRuntime) -> Loaders:
    """Fresh loaders for one request."""

    async def load_payments(order_ids: list[str]) -> list[Payment | None]:
        async with runtime.db.session() as session:
            query = select(Payment).where(Payment.order_id.in_(order_ids))
            rows = {p.order_id: p for p in await session.scalars(query)}
        return [rows.get(i) for i in order_ids]

    async def load_invoices(order_ids: list[str]) -> list[Invoice | None]:
        async with runtime.db.session() as session:
            query = select(Invoice).where(Invoice.order_id.in_(order_ids))
            rows = {i.order_id: i for i in await session.scalars(query)}
        return [rows.get(i) for i in order_ids]

    return Loaders(
        payment_by_order=DataLoader(load_payments), invoice_by_order=DataLoader(load_invoices)
    )
