"""payments: POST /webhooks/payments — Stripe-signed, replay-safe, idempotent effects."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from subgraphs.payments import events, service, webhooks
from subgraphs.payments.config import PaymentsSettings
from tests.subgraphs.payments.conftest import (
    ORDER_ID,
    WEBHOOK_SECRET,
    order_placed,
    status_changed,
)
from tests.subgraphs.payments.recorded_stripe import fixture

URL = "/webhooks/payments"


@pytest.fixture
def bus(recording_bus):
    """The app publishes on the recording bus (what was announced is asserted)."""
    return recording_bus


def stripe_event(name: str, *, reference: str, **changes: Any) -> bytes:
    """A recorded Stripe event about our payment (whose gateway reference is ``reference``)."""
    event = fixture(name)
    obj = event["data"]["object"]
    if obj["object"] == "charge":
        obj["payment_intent"] = reference
    else:
        obj["id"] = reference
    obj.update(changes)
    return json.dumps(event).encode()


def signed(body: bytes, *, secret: str = WEBHOOK_SECRET, at: float | None = None) -> dict:
    header = webhooks.signature_header(
        payload=body, secret=secret, timestamp=int(time.time() if at is None else at)
    )
    return {"stripe-signature": header, "content-type": "application/json"}


async def _payment(app):
    async with app.runtime.db.session() as session:
        return await service.payment_for_order(session=session, order_id=ORDER_ID)


async def _authorized(app):
    await events.handle(app.runtime, order_placed())
    return await _payment(app)


async def _captured(app):
    await _authorized(app)
    await events.handle(app.runtime, status_changed("DELIVERED", frm="OUT_FOR_DELIVERY"))
    return await _payment(app)


# --- signatures --------------------------------------------------------------------------


async def test_a_signed_refund_event_updates_the_payment(payments_app, recording_bus) -> None:
    payment = await _captured(payments_app)
    body = stripe_event("event_charge_refunded.json", reference=payment.gateway_reference)
    response = await payments_app.post(URL, content=body, headers=signed(body))
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}
    payment = await _payment(payments_app)
    assert (payment.status, payment.refunded_amount) == ("REFUNDED", 4302)
    assert recording_bus.published[-1].type == "PaymentRefunded"
    assert recording_bus.published[-1].payload["amount"] == {"amount": 4302, "currency": "USD"}


@pytest.mark.parametrize(
    ("sign", "code"),
    [
        (lambda body: {"stripe-signature": ""}, "MISSING_SIGNATURE"),
        (lambda body: {}, "MISSING_SIGNATURE"),
        (lambda body: signed(body, secret="whsec_someone_else"), "INVALID_SIGNATURE"),
        (lambda body: signed(body + b" "), "INVALID_SIGNATURE"),
        (lambda body: {"stripe-signature": "t=abc,v1=00"}, "INVALID_SIGNATURE"),
        (lambda body: {"stripe-signature": "v1=" + "0" * 64}, "INVALID_SIGNATURE"),
        (lambda body: signed(body, at=time.time() - 301), "SIGNATURE_EXPIRED"),
        (lambda body: signed(body, at=time.time() + 301), "SIGNATURE_EXPIRED"),
    ],
    ids=["empty", "absent", "wrong-secret", "tampered", "bad-time", "no-time", "old", "future"],
)
async def test_unsigned_badly_signed_or_expired_webhooks_are_refused(
    payments_app, recording_bus, sign, code
) -> None:
    payment = await _captured(payments_app)
    published = len(recording_bus.published)
    body = stripe_event("event_charge_refunded.json", reference=payment.gateway_reference)
    response = await payments_app.post(URL, content=body, headers=sign(body))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert "Traceback" not in response.text
    payment = await _payment(payments_app)
    assert (payment.status, payment.refunded_amount) == ("CAPTURED", 0)
    assert len(recording_bus.published) == published


async def test_a_replayed_event_is_acknowledged_without_effect(
    payments_app, recording_bus, gateway
) -> None:
    payment = await _captured(payments_app)
    body = stripe_event(
        "event_charge_refunded.json", reference=payment.gateway_reference, amount_refunded=1000
    )
    first = await payments_app.post(URL, content=body, headers=signed(body))
    again = await payments_app.post(URL, content=body, headers=signed(body))
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == {"received": True, "duplicate": True}
    payment = await _payment(payments_app)
    assert (payment.status, payment.refunded_amount) == ("CAPTURED", 1000)
    assert [e.type for e in recording_bus.published].count("PaymentRefunded") == 1


async def test_a_valid_signature_on_a_non_event_body_is_a_bad_payload(payments_app) -> None:
    for body in (b"not json", b"[]", b'{"id": "evt_1", "type": "charge.refunded"}'):
        response = await payments_app.post(URL, content=body, headers=signed(body))
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "INVALID_PAYLOAD"


async def test_without_a_configured_secret_webhooks_are_refused(payments_app) -> None:
    payments_app.runtime.extras["payments_settings"] = PaymentsSettings(payment_webhook_secret=None)
    body = b"{}"
    response = await payments_app.post(URL, content=body, headers=signed(body))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "WEBHOOKS_NOT_CONFIGURED"


def test_a_rolled_secret_may_sign_with_several_v1_signatures() -> None:
    body, now = b'{"id": "evt_1"}', 1_800_000_000
    old = webhooks.signature_header(payload=body, secret="whsec_old", timestamp=now)
    new = webhooks.signature_header(payload=body, secret=WEBHOOK_SECRET, timestamp=now)
    header = f"{old},v1={new.split('v1=')[1]}"
    webhooks.verify_signature(
        payload=body, header=header, secret=WEBHOOK_SECRET, tolerance=300, now=now + 299
    )
    with pytest.raises(webhooks.WebhookError) as refused:
        webhooks.verify_signature(
            payload=body, header=header, secret=WEBHOOK_SECRET, tolerance=300, now=now + 301
        )
    assert refused.value.code == "SIGNATURE_EXPIRED"


# --- effects -----------------------------------------------------------------------------


async def test_our_own_refund_reported_back_changes_nothing(
    payments_app, recording_bus, gateway
) -> None:
    payment = await _captured(payments_app)
    await events.handle(payments_app.runtime, status_changed("CANCELLED", frm="DELIVERED"))
    assert (await _payment(payments_app)).refunded_amount == 4302
    published = len(recording_bus.published)
    body = stripe_event("event_charge_refunded.json", reference=payment.gateway_reference)
    response = await payments_app.post(URL, content=body, headers=signed(body))
    assert response.status_code == 200
    assert (await _payment(payments_app)).refunded_amount == 4302
    assert len(recording_bus.published) == published


async def test_a_partial_refund_from_the_dashboard_moves_our_next_refund_key(
    payments_app, gateway
) -> None:
    payment = await _captured(payments_app)
    body = stripe_event(
        "event_charge_refunded.json", reference=payment.gateway_reference, amount_refunded=1000
    )
    await payments_app.post(URL, content=body, headers=signed(body))
    payment = await _payment(payments_app)
    assert (payment.refunded_amount, payment.refund_count) == (1000, 1)


async def test_payment_intent_succeeded_captures_an_authorized_payment_once(
    payments_app, recording_bus
) -> None:
    payment = await _authorized(payments_app)
    body = stripe_event("event_payment_intent_succeeded.json", reference=payment.gateway_reference)
    await payments_app.post(URL, content=body, headers=signed(body))
    payment = await _payment(payments_app)
    assert payment.status == "CAPTURED" and payment.captured_at is not None
    assert recording_bus.published[-1].type == "PaymentCaptured"
    # The order's own DELIVERED afterwards does not capture (or invoice) again.
    await events.handle(payments_app.runtime, status_changed("DELIVERED", frm="OUT_FOR_DELIVERY"))
    assert [e.type for e in recording_bus.published].count("PaymentCaptured") == 1


async def test_payment_failed_finds_a_timed_out_payment_by_metadata(
    payments_app, recording_bus
) -> None:
    await events.handle(payments_app.runtime, order_placed(token="tok_timeout"))
    payment = await _payment(payments_app)
    assert (payment.status, payment.gateway_reference) == ("FAILED", None)
    event = fixture("event_payment_intent_payment_failed.json")
    event["data"]["object"]["metadata"] = {"payment_id": payment.id, "order_id": ORDER_ID}
    body = json.dumps(event).encode()
    assert (await payments_app.post(URL, content=body, headers=signed(body))).status_code == 200
    payment = await _payment(payments_app)
    assert (payment.status, payment.decline_code) == ("DECLINED", "insufficient_funds")
    # PaymentDeclined was announced once, at the timeout.
    assert [e.type for e in recording_bus.published] == ["PaymentDeclined"]


async def test_events_about_unknown_payments_or_of_other_types_are_acknowledged(
    payments_app,
) -> None:
    for body in (
        stripe_event("event_charge_refunded.json", reference="pi_not_ours", metadata={}),
        json.dumps(
            {"id": "evt_other", "type": "customer.created", "data": {"object": {"id": "cus_1"}}}
        ).encode(),
    ):
        response = await payments_app.post(URL, content=body, headers=signed(body))
        assert response.json() == {"received": True, "duplicate": False}


async def test_the_same_event_delivered_twice_at_once_is_applied_once(
    payments_app, recording_bus
) -> None:
    payment = await _captured(payments_app)
    body = stripe_event(
        "event_charge_refunded.json", reference=payment.gateway_reference, amount_refunded=700
    )
    answers = await asyncio.gather(
        *(payments_app.post(URL, content=body, headers=signed(body)) for _ in range(3))
    )
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert sorted(a.json()["duplicate"] for a in answers) == [False, True, True]
    assert (await _payment(payments_app)).refunded_amount == 700
    assert [e.type for e in recording_bus.published].count("PaymentRefunded") == 1


async def test_payment_failed_with_an_odd_error_object_declines_without_a_500(
    payments_app, recording_bus
) -> None:
    await events.handle(payments_app.runtime, order_placed(token="tok_timeout"))
    payment = await _payment(payments_app)
    event = fixture("event_payment_intent_payment_failed.json")
    event["data"]["object"]["metadata"] = {"payment_id": payment.id, "order_id": ORDER_ID}
    event["data"]["object"]["last_payment_error"] = {"decline_code": 42, "message": ["x"]}
    body = json.dumps(event).encode()
    assert (await payments_app.post(URL, content=body, headers=signed(body))).status_code == 200
    payment = await _payment(payments_app)
    assert (payment.status, payment.decline_code) == ("DECLINED", "payment_failed")
