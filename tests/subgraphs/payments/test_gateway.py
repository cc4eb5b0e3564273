"""payments: the local test gateway (deterministic tokens, idempotency keys)."""

from __future__ import annotations

import pytest

from subgraphs.payments.gateway import GatewayRejected, GatewayTimeout, TestGateway


async def test_visa_token_is_approved_and_held() -> None:
    gateway = TestGateway()
    result = await gateway.authorize(
        token="tok_visa", amount=1000, currency="USD", idempotency_key="a"
    )
    assert result.approved and result.reference in gateway.charges


async def test_declined_token_says_why() -> None:
    result = await TestGateway().authorize(
        token="tok_chargeDeclined", amount=1000, currency="USD", idempotency_key="a"
    )
    assert (result.approved, result.decline_code) == (False, "card_declined")
    assert result.decline_reason


async def test_timeout_token_times_out() -> None:
    with pytest.raises(GatewayTimeout):
        await TestGateway().authorize(
            token="tok_timeout", amount=1, currency="USD", idempotency_key="a"
        )


async def test_same_idempotency_key_returns_the_first_result_without_acting_again() -> None:
    gateway = TestGateway()
    first = await gateway.authorize(
        token="tok_visa", amount=1000, currency="USD", idempotency_key="k"
    )
    again = await gateway.authorize(
        token="tok_visa", amount=1000, currency="USD", idempotency_key="k"
    )
    assert again == first
    assert len(gateway.charges) == 1
    await gateway.capture(reference=first.reference, amount=1000, idempotency_key="c")
    await gateway.capture(reference=first.reference, amount=1000, idempotency_key="c")
    assert gateway.operations == [("authorize", "k"), ("capture", "c")]


async def test_new_key_is_a_new_charge() -> None:
    gateway = TestGateway()
    for key in ("k1", "k2"):
        await gateway.authorize(token="tok_visa", amount=1000, currency="USD", idempotency_key=key)
    assert len(gateway.charges) == 2


async def test_cannot_capture_more_than_held_or_refund_more_than_captured() -> None:
    gateway = TestGateway()
    held = await gateway.authorize(
        token="tok_visa", amount=1000, currency="USD", idempotency_key="a"
    )
    with pytest.raises(GatewayRejected):
        await gateway.capture(reference=held.reference, amount=1001, idempotency_key="c1")
    await gateway.capture(reference=held.reference, amount=900, idempotency_key="c2")
    with pytest.raises(GatewayRejected):
        await gateway.refund(reference=held.reference, amount=901, idempotency_key="r1")
    with pytest.raises(GatewayRejected):
        await gateway.void(reference=held.reference, idempotency_key="v")


@pytest.mark.parametrize(
    ("card", "outcome"),
    [
        ("4242 4242 4242 4242", None),
        ("5555-5555-5555-4444", None),
        ("4000000000000002", "card_declined"),
        ("4000 0000 0000 9995", "insufficient_funds"),
        ("4000000000000069", "expired_card"),
    ],
)
async def test_test_card_numbers_approve_or_decline(card: str, outcome: str | None) -> None:
    result = await TestGateway().authorize(
        token=card, amount=1000, currency="USD", idempotency_key="a"
    )
    assert result.approved is (outcome is None)
    assert result.decline_code == outcome


async def test_the_processing_error_card_number_times_out() -> None:
    with pytest.raises(GatewayTimeout):
        await TestGateway().authorize(
            token="4000 0000 0000 0119", amount=1, currency="USD", idempotency_key="a"
        )
