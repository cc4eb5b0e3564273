"""payments: the Stripe adapter against recorded Stripe responses (requests asserted too)."""

from __future__ import annotations

import pytest

from subgraphs.payments import events, service
from subgraphs.payments.gateway import GatewayRejected, GatewayTimeout
from subgraphs.payments.stripe_gateway import StripeGateway
from tests.subgraphs.payments.conftest import order_placed, status_changed
from tests.subgraphs.payments.recorded_stripe import RecordedStripe

API_KEY = "sk_test_recorded"
INTENT = "pi_3QbXyZ2eZvKYlo2C0Hx6Ab1D"


@pytest.fixture
def http() -> RecordedStripe:
    return RecordedStripe()


@pytest.fixture
def stripe_gateway(http: RecordedStripe) -> StripeGateway:
    return StripeGateway.from_api_key(API_KEY, max_network_retries=0, http_client=http)


async def _authorize(gateway: StripeGateway, token: str = "tok_visa", key: str = "pay_1:authorize"):
    return await gateway.authorize(
        token=token,
        amount=4302,
        currency="USD",
        idempotency_key=key,
        metadata={"payment_id": "pay_1", "order_id": "ord_1"},
    )


async def test_authorize_creates_a_manual_capture_payment_intent(stripe_gateway, http) -> None:
    http.replay("payment_intent_requires_capture.json")
    result = await _authorize(stripe_gateway)
    assert (result.approved, result.reference, result.amount) == (True, INTENT, 4302)
    [sent] = http.requests
    assert (sent.method, sent.path) == ("POST", "/v1/payment_intents")
    assert sent.form == {
        "amount": "4302",
        "currency": "usd",
        "capture_method": "manual",
        "confirm": "true",
        "payment_method_types[0]": "card",
        "metadata[payment_id]": "pay_1",
        "metadata[order_id]": "ord_1",
        "payment_method_data[type]": "card",
        "payment_method_data[card][token]": "tok_visa",
    }
    assert sent.idempotency_key == "pay_1:authorize"
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"


async def test_authorize_with_a_payment_method_id_sends_it_as_is(stripe_gateway, http) -> None:
    http.replay("payment_intent_requires_capture.json")
    await _authorize(stripe_gateway, token="pm_card_visa")
    form = http.requests[0].form
    assert form["payment_method"] == "pm_card_visa"
    assert not any(key.startswith("payment_method_data") for key in form)


async def test_a_card_error_is_a_decline_with_stripes_decline_code(stripe_gateway, http) -> None:
    http.replay("error_card_declined.json", status=402)
    result = await _authorize(stripe_gateway, token="tok_chargeDeclinedInsufficientFunds")
    assert not result.approved
    assert result.decline_code == "insufficient_funds"
    assert result.decline_reason == "Your card has insufficient funds."
    assert result.reference == INTENT


async def test_an_intent_needing_3ds_is_not_an_authorization(stripe_gateway, http) -> None:
    http.replay("payment_intent_requires_action.json")
    result = await _authorize(stripe_gateway)
    assert (result.approved, result.decline_code) == (False, "requires_action")


async def test_a_timeout_is_a_gateway_timeout(stripe_gateway, http) -> None:
    http.time_out()
    with pytest.raises(GatewayTimeout):
        await _authorize(stripe_gateway)


async def test_a_server_error_is_an_unknown_outcome_not_a_decline(stripe_gateway, http) -> None:
    http.replay("error_api.json", status=500)
    with pytest.raises(GatewayTimeout):
        await _authorize(stripe_gateway)


async def test_sdk_retries_resend_the_same_idempotency_key(http) -> None:
    gateway = StripeGateway.from_api_key(API_KEY, max_network_retries=1, http_client=http)
    http.time_out().replay("payment_intent_requires_capture.json")
    result = await _authorize(gateway)
    assert result.approved
    assert [r.idempotency_key for r in http.requests] == ["pay_1:authorize", "pay_1:authorize"]


async def test_capture_takes_the_amount_with_its_key(stripe_gateway, http) -> None:
    http.replay("payment_intent_captured.json")
    result = await stripe_gateway.capture(
        reference=INTENT, amount=4302, idempotency_key="pay_1:capture"
    )
    assert (result.approved, result.amount) == (True, 4302)
    [sent] = http.requests
    assert sent.path == f"/v1/payment_intents/{INTENT}/capture"
    assert sent.form == {"amount_to_capture": "4302"}
    assert sent.idempotency_key == "pay_1:capture"


async def test_capturing_more_than_held_is_rejected(stripe_gateway, http) -> None:
    http.replay("error_amount_too_large.json", status=400)
    with pytest.raises(GatewayRejected):
        await stripe_gateway.capture(reference=INTENT, amount=5000, idempotency_key="c")


async def test_void_cancels_the_payment_intent(stripe_gateway, http) -> None:
    http.replay("payment_intent_canceled.json")
    result = await stripe_gateway.void(reference=INTENT, idempotency_key="pay_1:void")
    assert result.approved
    [sent] = http.requests
    assert (sent.path, sent.form) == (f"/v1/payment_intents/{INTENT}/cancel", {})
    assert sent.idempotency_key == "pay_1:void"


async def test_refund_creates_a_refund_of_the_payment_intent(stripe_gateway, http) -> None:
    http.replay("refund.json")
    result = await stripe_gateway.refund(
        reference=INTENT, amount=1000, idempotency_key="pay_1:refund:1"
    )
    assert (result.approved, result.amount) == (True, 1000)
    [sent] = http.requests
    assert (sent.path, sent.form) == ("/v1/refunds", {"payment_intent": INTENT, "amount": "1000"})
    assert sent.idempotency_key == "pay_1:refund:1"


async def test_a_capture_timeout_is_a_gateway_timeout(stripe_gateway, http) -> None:
    http.time_out()
    with pytest.raises(GatewayTimeout):
        await stripe_gateway.capture(reference=INTENT, amount=1, idempotency_key="c")


# --- the saga over the Stripe adapter ----------------------------------------------------


async def test_the_saga_authorizes_and_captures_through_stripe(runtime, http) -> None:
    runtime.extras["payment_gateway"] = StripeGateway.from_api_key(
        API_KEY, max_network_retries=0, http_client=http
    )
    http.replay("payment_intent_requires_capture.json").replay("payment_intent_captured.json")
    await events.handle(runtime, order_placed())
    await events.handle(runtime, status_changed("DELIVERED", frm="OUT_FOR_DELIVERY"))
    async with runtime.db.session() as session:
        payment = await service.payment_for_order(session=session, order_id="ord_test_1")
    assert (payment.status, payment.gateway_reference) == ("CAPTURED", INTENT)
    authorize, capture = http.requests
    assert authorize.idempotency_key == f"{payment.id}:authorize"
    assert authorize.form["metadata[payment_id]"] == payment.id
    assert capture.idempotency_key == f"{payment.id}:capture"


async def test_a_stripe_timeout_fails_the_payment(runtime, recording_bus, http) -> None:
    runtime.extras["payment_gateway"] = StripeGateway.from_api_key(
        API_KEY, max_network_retries=0, http_client=http
    )
    http.time_out()
    await events.handle(runtime, order_placed())
    async with runtime.db.session() as session:
        payment = await service.payment_for_order(session=session, order_id="ord_test_1")
    assert payment.status == "FAILED"
    assert [e.type for e in recording_bus.published] == ["PaymentDeclined"]
