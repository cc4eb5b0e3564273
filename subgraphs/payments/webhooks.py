"""Gateway webhooks: signatures checked, each event applied once, payments brought in line.

Enters: the raw body and the ``Stripe-Signature`` header of ``POST /webhooks/payments``.
Leaves: a :class:`WebhookOutcome` (an announcement to publish, or nothing) or a
:class:`WebhookError` with a code for the 400 answer.

The signature is Stripe's scheme: ``t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``
(several ``v1`` while a secret is rolled), compared in constant time, within a tolerance
(5 minutes by default) either side of now. Within that window a replay is caught by the
event id, recorded in ``handled_events`` (as ``webhook:<id>``) in the same transaction
as its effect. Effects are idempotent by state as well: a capture or refund the saga
made itself, reported back by the gateway, changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import utcnow
from subgraphs.payments import refunds, service
from subgraphs.payments.models import Payment

HANDLED = ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded")
EVENT_KEY_PREFIX = "webhook:"
MAX_EVENT_ID = 64 - len(EVENT_KEY_PREFIX)
GATEWAY_ACTOR = "gateway"
"""Who refunded, for a refund made at the gateway itself (e.g. from Stripe's dashboard)."""


class WebhookError(Exception):
    """A webhook refused before any effect: ``code`` goes into the 400 answer."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class WebhookOutcome:
    """What applying one webhook event did."""

    duplicate: bool = False
    announcement: service.Announcement | None = None


def signature_header(*, payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header of ``payload`` (what the gateway sends; tests sign with it)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_sign(payload, secret, t)}"


def _sign(payload: bytes, secret: str, timestamp: int) -> str:
    message = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    *, payload: bytes, header: str | None, secret: str, tolerance: int, now: float | None = None
) -> None:
    """Raise :class:`WebhookError` unless ``header`` signs ``payload`` with ``secret``, recently."""
    if not header:
        raise WebhookError("MISSING_SIGNATURE", "The Stripe-Signature header is missing.")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookError("INVALID_SIGNATURE", "The Stripe-Signature header is malformed.")
    expected = _sign(payload, secret, timestamp)
    # Every candidate is compared (constant time each), so timing reveals nothing.
    matches = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    if not any(matches):
        raise WebhookError("INVALID_SIGNATURE", "The webhook signature does not match.")
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise WebhookError(
            "SIGNATURE_EXPIRED", "The webhook's timestamp is outside the accepted tolerance."
        )


def parse_event(payload: bytes) -> dict[str, Any]:
    """The event object of a verified body (``id``, ``type``, ``data.object``)."""
    try:
        event = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookError("INVALID_PAYLOAD", "The webhook body is not JSON.") from exc
    data = event.get("data") if isinstance(event, dict) else None
    if (
        not isinstance(event, dict)
        or not isinstance(event.get("id"), str)
        or not 0 < len(event["id"]) <= MAX_EVENT_ID
        or not isinstance(event.get("type"), str)
        or not isinstance(data, dict)  # a list or string ``data`` was a 500 (found by fuzzing)
        or not isinstance(data.get("object"), dict)
    ):
        raise WebhookError("INVALID_PAYLOAD", "The webhook body is not a gateway event.")
    return event


async def was_applied(*, session: AsyncSession, event: dict[str, Any]) -> bool:
    """True once ``event`` (by id) was applied."""
    return await service.was_handled(session=session, event_id=EVENT_KEY_PREFIX + event["id"])


async def apply_event(
    *, session: AsyncSession, event: dict[str, Any], now: datetime | None = None
) -> WebhookOutcome:
    """Apply a verified event once; a replayed event id is acknowledged without effect."""
    if not await service.mark_handled(
        session=session,
        event_id=EVENT_KEY_PREFIX + event["id"],
        event_type=(EVENT_KEY_PREFIX + event["type"])[:60],
    ):
        return WebhookOutcome(duplicate=True)
    now = now or utcnow()
    obj = event["data"]["object"]
    announcement = None
    if event["type"] == "payment_intent.succeeded":
        announcement = await _intent_succeeded(session=session, intent=obj, now=now)
    elif event["type"] == "payment_intent.payment_failed":
        announcement = await _intent_failed(session=session, intent=obj, now=now)
    elif event["type"] == "charge.refunded":
        announcement = await _charge_refunded(session=session, charge=obj, now=now)
    return WebhookOutcome(announcement=announcement)


async def _payment_of(*, session: AsyncSession, intent_id: Any, metadata: Any) -> Payment | None:
    """Our payment behind a PaymentIntent: by its id, else by the metadata we sent with it."""
    if isinstance(intent_id, str) and intent_id:
        payment = await session.scalar(
            select(Payment).where(Payment.gateway_reference == intent_id)
        )
        if payment is not None:
            return payment
    payment_id = metadata.get("payment_id") if isinstance(metadata, dict) else None
    return await session.get(Payment, payment_id) if isinstance(payment_id, str) else None


async def _intent_succeeded(
    *, session: AsyncSession, intent: dict[str, Any], now: datetime
) -> service.Announcement | None:
    """Money was taken at the gateway (e.g. captured from its dashboard): record and invoice it."""
    payment = await _payment_of(
        session=session, intent_id=intent.get("id"), metadata=intent.get("metadata")
    )
    if payment is None or payment.status != "AUTHORIZED":
        return None  # not ours, or captured by the saga already
    received = intent.get("amount_received")
    if isinstance(received, int) and 0 < received < payment.amount:
        payment.amount = received  # the rest of the hold was released
    payment.status = "CAPTURED"
    payment.captured_at = payment.updated_at = now
    await service.issue_invoice(session=session, payment=payment, now=now)
    return service.announce("PaymentCaptured", payment)


async def _intent_failed(
    *, session: AsyncSession, intent: dict[str, Any], now: datetime
) -> service.Announcement | None:
    """The authorization failed: a PENDING payment is declined (a FAILED one learns why)."""
    payment = await _payment_of(
        session=session, intent_id=intent.get("id"), metadata=intent.get("metadata")
    )
    if payment is None or payment.status not in {"PENDING", "FAILED"}:
        return None
    error = intent.get("last_payment_error")
    error = error if isinstance(error, dict) else {}  # a signed but odd payload is no 500

    def text(*keys: str) -> str | None:
        return next((v for k in keys if isinstance(v := error.get(k), str) and v), None)

    announce = payment.status == "PENDING"  # FAILED announced PaymentDeclined already
    payment.status = "DECLINED"
    payment.decline_code = (text("decline_code", "code") or "payment_failed")[:60]
    payment.decline_reason = text("message") or "The payment failed at the gateway."
    payment.updated_at = now
    if not announce:
        return None
    return service.announce(
        "PaymentDeclined", payment, reason=payment.decline_reason, code=payment.decline_code
    )


async def _charge_refunded(
    *, session: AsyncSession, charge: dict[str, Any], now: datetime
) -> service.Announcement | None:
    """Money was paid back at the gateway: follow its cumulative ``amount_refunded``."""
    payment = await _payment_of(
        session=session, intent_id=charge.get("payment_intent"), metadata=charge.get("metadata")
    )
    refunded = charge.get("amount_refunded")
    if payment is None or payment.status != "CAPTURED" or not isinstance(refunded, int):
        return None
    refunded = min(refunded, payment.amount)
    delta = refunded - payment.refunded_amount
    if delta <= 0:
        return None  # a refund we made ourselves, or an older event arriving late
    payment.refunded_amount = refunded
    payment.refund_count += 1  # refunds made at the gateway count too
    payment.refunded_at = payment.updated_at = now
    if refunded >= payment.amount:
        payment.status = "REFUNDED"
    return refunds.refund_announcement(payment, amount=delta, actor=GATEWAY_ACTOR)
