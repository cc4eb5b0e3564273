"""orders: placing an order (service.py over the database, fake menu and geo)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shared.errors import DomainError
from subgraphs.orders import events, service
from subgraphs.orders.catalog import CartLine
from subgraphs.orders.models import Order
from tests.subgraphs.orders.conftest import (
    CUSTOMER,
    NOW,
    STRANGER,
    delivery_cart,
    open_quote,
)

VISA = service.PaymentChoice(type="CARD", token="tok_visa")


async def _place(session, catalog, *, key="key-1", principal=CUSTOMER, cart=None, payment=VISA):
    placement = await service.place_order(
        session=session,
        catalog=catalog,
        principal=principal,
        cart=cart or delivery_cart(),
        payment=payment,
        idempotency_key=key,
        now=NOW,
    )
    await session.commit()
    return placement


async def _count(session) -> int:
    return await session.scalar(select(func.count(Order.id)))


async def test_placed_order_snapshots_lines_price_and_first_stage(session, catalog) -> None:
    cart = delivery_cart(
        lines=[
            CartLine(
                "var_pepperoni_14",
                2,
                toppings=[{"toppingCode": "OLIVES", "placement": "LEFT", "amount": "EXTRA"}],
            )
        ],
        tip=300,
    )
    order = (await _place(session, catalog, cart=cart)).order
    assert order.status == "PLACED"
    assert order.customer_id == CUSTOMER.user_id
    assert [(s.stage, s.actor) for s in order.stages] == [("PLACED", CUSTOMER.user_id)]
    assert (order.subtotal, order.delivery_fee, order.tip) == (3198, 499, 300)
    assert order.total == 3198 + 499 + 305 + 300
    line = order.lines[0]
    assert (line.product_id, line.quantity, line.unit_price, line.line_total) == (
        "prd_pepperoni_14",
        2,
        1599,
        3198,
    )
    assert line.customization["toppings"][0]["toppingCode"] == "OLIVES"
    assert (order.address_lat, order.address_lng) == (30.2747, -97.7404)


async def test_numbers_count_up_per_store_and_local_day(session, catalog) -> None:
    first = (await _place(session, catalog, key="a")).order
    second = (await _place(session, catalog, key="b")).order
    # 18:00 UTC on 25 Nov is noon in Austin (America/Chicago).
    assert (first.number, second.number) == ("1125-0001", "1125-0002")


async def test_same_idempotency_key_returns_the_same_order(session, catalog) -> None:
    first = await _place(session, catalog, key="checkout-42")
    again = await _place(session, catalog, key="checkout-42")
    assert first.created is True and again.created is False
    assert again.order.id == first.order.id
    assert await _count(session) == 1
    assert len(catalog.price_calls) == 1  # the retry did not even re-price


async def test_same_key_from_another_customer_is_another_order(session, catalog) -> None:
    mine = await _place(session, catalog, key="k")
    theirs = await _place(session, catalog, key="k", principal=STRANGER)
    assert theirs.created is True and theirs.order.id != mine.order.id


async def test_placing_needs_a_signed_in_customer(session, catalog) -> None:
    with pytest.raises(DomainError) as caught:
        await _place(session, catalog, principal=None)
    assert caught.value.code == "UNAUTHENTICATED"


async def test_card_payment_needs_a_token(session, catalog) -> None:
    with pytest.raises(DomainError) as caught:
        await _place(session, catalog, payment=service.PaymentChoice(type="CARD"))
    assert (caught.value.code, caught.value.field) == (
        "PAYMENT_TOKEN_REQUIRED",
        "paymentMethod.token",
    )
    assert await _count(session) == 0


async def test_payment_method_must_be_accepted_by_the_store(session, catalog) -> None:
    catalog.quote = open_quote(payment_methods=("CARD", "GIFT_CARD"))
    with pytest.raises(DomainError) as caught:
        await _place(session, catalog, payment=service.PaymentChoice(type="CASH"))
    assert caught.value.code == "PAYMENT_METHOD_NOT_ACCEPTED"
    assert (await _place(session, catalog)).created


async def test_broken_rule_writes_nothing(session, catalog) -> None:
    with pytest.raises(DomainError):
        await _place(session, catalog, cart=delivery_cart(lines=[CartLine("var_cola", 1)]))
    assert await _count(session) == 0


async def test_order_placed_payload_follows_the_contract(session, catalog) -> None:
    order = (await _place(session, catalog)).order
    payload = events.order_placed_payload(order)
    contract = {
        "orderId",
        "number",
        "customerId",
        "storeId",
        "serviceMethod",
        "total",
        "paymentMethod",
        "deliveryLocation",
        "placedAt",
    }
    assert contract <= payload.keys()
    assert payload["total"] == {"amount": order.total, "currency": "USD"}
    assert payload["paymentMethod"] == {"type": "CARD", "token": "tok_visa"}
    assert payload["deliveryLocation"] == {"lat": 30.2747, "lng": -97.7404}
    assert payload["price"]["tax"] == {"amount": order.tax, "currency": "USD"}
    assert payload["lines"][0]["lineTotal"]["amount"] == 3198
