"""What reviews consumes (orders and driver facts) and publishes (``ReviewPosted``).

Published through the outbox: staged in the transaction that stores the review.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from shared import outbox
from shared.bus import Event
from shared.subgraph import SubgraphRuntime
from subgraphs.reviews import service
from subgraphs.reviews.models import Review

SOURCE = "reviews"
GROUP = "reviews"


async def stage_review_posted(
    session: AsyncSession, review: Review, product_ids: list[str]
) -> None:
    """A customer reviewed an order (notifications thanks them)."""
    await outbox.stage(
        session,
        Event(
            type="ReviewPosted",
            source=SOURCE,
            payload={
                "reviewId": review.id,
                "orderId": review.order_id,
                "customerId": review.customer_id,
                "stars": review.stars,
                "productIds": product_ids,
                "driverId": review.driver_id,
            },
        ),
    )


def _product_ids(payload: dict[str, Any]) -> list[str] | None:
    """Product ids of the order when an event carries them (not in today's contract)."""
    if isinstance(payload.get("productIds"), list):
        return [str(p) for p in payload["productIds"]]
    lines = payload.get("lines")
    if isinstance(lines, list):
        ids = [
            str(line["productId"])
            for line in lines
            if isinstance(line, dict) and line.get("productId")
        ]
        return ids or None
    return None


def register_consumers(runtime: SubgraphRuntime) -> None:
    """Learn each order's customer, driver and whether it was received."""

    async def on_order_event(event: Event) -> None:
        payload = event.payload
        if not payload.get("customerId"):
            return
        async with runtime.db.session() as session:
            if not await service.record_event(
                session=session, event_id=event.id, event_type=event.type
            ):
                return
            await service.learn_order(
                session=session,
                order_id=payload["orderId"],
                customer_id=payload["customerId"],
                driver_id=payload.get("driverId") if event.type == "DriverAssigned" else None,
                received=event.type == "OrderStatusChanged"
                and payload.get("to") in service.RECEIVED_STATUSES,
                product_ids=_product_ids(payload),
            )
            await session.commit()

    runtime.bus.subscribe(
        group=GROUP,
        types=["OrderPlaced", "OrderStatusChanged", "DriverAssigned"],
        handler=on_order_event,
    )
