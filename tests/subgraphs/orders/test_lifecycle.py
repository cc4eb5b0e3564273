"""orders: the tracker's state machine, cancelling and modifying (service.py)."""

from __future__ import annotations

import pytest

from shared.errors import DomainError
from subgraphs.orders import service
from subgraphs.orders.catalog import CartLine
from tests.subgraphs.orders.conftest import (
    ADMIN,
    CUSTOMER,
    NOW,
    OTHER_STAFF,
    STAFF,
    STRANGER,
    carryout_cart,
    delivery_cart,
)


@pytest.fixture
async def place(session, catalog):
    """Place an order of the demo customer and return it."""

    keys = iter(range(1000))

    async def place(cart=None):
        placement = await service.place_order(
            session=session,
            catalog=catalog,
            principal=CUSTOMER,
            cart=cart or delivery_cart(),
            payment=service.PaymentChoice(type="CASH"),
            idempotency_key=f"key-{next(keys)}",
            now=NOW,
        )
        await session.commit()
        return placement.order

    return place


async def _advance(session, order, principal=STAFF, to=None) -> service.StatusChange:
    change = await service.advance_order(
        session=session, principal=principal, order_id=order.id, to=to
    )
    await session.commit()
    return change


async def _refused(coro) -> str:
    with pytest.raises(DomainError) as caught:
        await coro
    return caught.value.code


async def test_delivery_order_walks_the_tracker_to_delivered(session, place) -> None:
    order = await place()
    for expected in ("PREP", "BAKE", "QUALITY_CHECK", "OUT_FOR_DELIVERY", "DELIVERED"):
        change = await _advance(session, order)
        assert (change.to_status, order.status) == (expected, expected)
    assert [s.stage for s in order.stages] == [
        "PLACED",
        "PREP",
        "BAKE",
        "QUALITY_CHECK",
        "OUT_FOR_DELIVERY",
        "DELIVERED",
    ]
    assert all(s.actor == STAFF.user_id for s in order.stages[1:])
    assert await _refused(_advance(session, order)) == "INVALID_TRANSITION"


async def test_carryout_order_ends_with_pickup(session, place) -> None:
    order = await place(carryout_cart())
    for _ in range(5):
        await _advance(session, order)
    assert [s.stage for s in order.stages][-2:] == ["READY_FOR_PICKUP", "PICKED_UP"]


async def test_status_changes_name_from_to_and_actor(session, place) -> None:
    order = await place()
    change = await _advance(session, order, principal=ADMIN)
    assert (change.from_status, change.to_status, change.actor) == ("PLACED", "PREP", ADMIN.user_id)


async def test_no_going_back(session, place) -> None:
    order = await place()
    await _advance(session, order, to="BAKE")
    assert await _refused(_advance(session, order, to="PREP")) == "INVALID_TRANSITION"
    assert await _refused(_advance(session, order, to="BAKE")) == "INVALID_TRANSITION"


async def test_delivery_order_never_goes_to_pickup_stages(session, place) -> None:
    order = await place()
    assert await _refused(_advance(session, order, to="READY_FOR_PICKUP")) == "INVALID_TRANSITION"


async def test_only_staff_of_the_store_or_admins_advance(session, place) -> None:
    order = await place()
    assert await _refused(_advance(session, order, principal=CUSTOMER)) == "FORBIDDEN"
    assert await _refused(_advance(session, order, principal=OTHER_STAFF)) == "FORBIDDEN"
    assert (await _advance(session, order, principal=ADMIN)).to_status == "PREP"


async def _cancel(session, order, principal) -> service.StatusChange:
    change = await service.cancel_order(
        session=session, principal=principal, order_id=order.id, reason="changed my mind"
    )
    await session.commit()
    return change


async def test_customer_cancels_while_placed(session, place) -> None:
    order = await place()
    change = await _cancel(session, order, CUSTOMER)
    assert (change.from_status, order.status, order.cancel_reason) == (
        "PLACED",
        "CANCELLED",
        "changed my mind",
    )


async def test_customer_cannot_cancel_once_the_make_line_started(session, place) -> None:
    order = await place()
    await _advance(session, order)
    assert await _refused(_cancel(session, order, CUSTOMER)) == "ORDER_IN_PROGRESS"


async def test_staff_cancel_until_handover_but_not_after(session, place) -> None:
    baking = await place()
    await _advance(session, baking, to="BAKE")
    assert (await _cancel(session, baking, STAFF)).to_status == "CANCELLED"
    delivered = await place()
    await _advance(session, delivered, to="DELIVERED")
    assert await _refused(_cancel(session, delivered, STAFF)) == "INVALID_TRANSITION"


async def test_other_customers_cannot_cancel_or_see_it(session, place) -> None:
    order = await place()
    assert await _refused(_cancel(session, order, STRANGER)) == "NOT_FOUND"
    read = service.read_order(session=session, principal=STRANGER, order_id=order.id)
    assert await _refused(read) == "NOT_FOUND"
    read = service.read_order(session=session, principal=OTHER_STAFF, order_id=order.id)
    assert await _refused(read) == "FORBIDDEN"


async def test_modify_replaces_lines_and_reprices(session, catalog, place) -> None:
    order = await place()
    await service.modify_order(
        session=session,
        catalog=catalog,
        principal=CUSTOMER,
        order_id=order.id,
        lines=[CartLine("var_cheese_12", 1), CartLine("var_cola", 2)],
        tip=200,
    )
    await session.commit()
    assert [line.product_id for line in order.lines] == ["prd_cheese_12", "prd_cola"]
    assert order.subtotal == 1199 + 2 * 299
    assert order.total == order.subtotal + 499 + order.tax + 200


async def test_modify_is_refused_once_preparation_started(session, catalog, place) -> None:
    order = await place()
    await _advance(session, order)
    modify = service.modify_order(
        session=session, catalog=catalog, principal=CUSTOMER, order_id=order.id, tip=100
    )
    assert await _refused(modify) == "ORDER_IN_PROGRESS"


async def test_modify_keeps_the_rules(session, catalog, place) -> None:
    order = await place()
    modify = service.modify_order(
        session=session,
        catalog=catalog,
        principal=CUSTOMER,
        order_id=order.id,
        lines=[CartLine("var_cola", 1)],
    )
    assert await _refused(modify) == "BELOW_MINIMUM_ORDER"
