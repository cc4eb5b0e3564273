"""The Stripe adapter of :class:`~subgraphs.payments.gateway.PaymentGateway` (official ``stripe`` SDK).

Enters: the same calls as the test gateway. Leaves: :class:`GatewayResult`, or
:class:`GatewayTimeout` when Stripe could not be reached or answered with a server
error (the outcome is unknown), or :class:`GatewayRejected` when Stripe refused a
call that cannot succeed. Mapping to Stripe's PaymentIntents API:

- authorize → ``POST /v1/payment_intents`` with ``capture_method=manual, confirm=true``
  (a hold: the intent ends in ``requires_capture``); a ``card_error`` is a decline
  whose code is Stripe's ``decline_code`` (else its ``code``);
- capture → ``POST /v1/payment_intents/{id}/capture`` with ``amount_to_capture``;
- void → ``POST /v1/payment_intents/{id}/cancel``;
- refund → ``POST /v1/refunds`` with ``payment_intent`` and ``amount``.

Every call sends our idempotency key as Stripe's ``Idempotency-Key`` header, so the
SDK's own network retries and our redelivered events can never charge twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import stripe

from subgraphs.payments.gateway import GatewayRejected, GatewayResult, GatewayTimeout

# Pinned so that recorded responses and production agree on the shapes.
STRIPE_API_VERSION = stripe.api_version


class StripeGateway:
    """Authorize, capture, void and refund through Stripe PaymentIntents."""

    def __init__(self, client: stripe.StripeClient):
        self._client = client

    @classmethod
    def from_api_key(
        cls,
        api_key: str,
        *,
        timeout_seconds: float = 10.0,
        max_network_retries: int = 2,
        http_client: stripe.HTTPClient | None = None,
        api_base: str | None = None,
    ) -> StripeGateway:
        """A gateway over an async HTTP client (httpx unless one is given, e.g. in tests)."""
        client = stripe.StripeClient(
            api_key,
            stripe_version=STRIPE_API_VERSION,
            max_network_retries=max_network_retries,
            http_client=http_client or stripe.HTTPXClient(timeout=timeout_seconds),
            base_addresses={"api": api_base} if api_base else None,
        )
        return cls(client)

    async def authorize(
        self,
        *,
        token: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> GatewayResult:
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency.lower(),
            "capture_method": "manual",
            "confirm": True,
            "payment_method_types": ["card"],
            "metadata": dict(metadata or {}),
        }
        if token.startswith("pm_"):
            params["payment_method"] = token
        else:
            # A card token from Stripe.js / the mobile SDKs (tok_...).
            params["payment_method_data"] = {"type": "card", "card": {"token": token}}
        try:
            intent = await self._client.v1.payment_intents.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.CardError as exc:
            return _declined(exc)
        except stripe.InvalidRequestError as exc:
            # E.g. an unknown or used token: nothing can be held with it.
            return GatewayResult(
                approved=False,
                decline_code=exc.code or "invalid_request",
                decline_reason=exc.user_message or "The card details were not accepted.",
            )
        except stripe.StripeError as exc:
            raise _unavailable_or_rejected(exc) from exc
        if intent.status != "requires_capture":
            # e.g. requires_action (3-D Secure): nothing is held; the order cannot go ahead.
            error = intent.last_payment_error
            return GatewayResult(
                approved=False,
                reference=intent.id,
                decline_code=(error and (error.decline_code or error.code)) or intent.status,
                decline_reason=(error and error.message)
                or "The card needs an authentication the shop cannot ask for.",
            )
        return GatewayResult(approved=True, reference=intent.id, amount=intent.amount)

    async def capture(self, *, reference: str, amount: int, idempotency_key: str) -> GatewayResult:
        try:
            intent = await self._client.v1.payment_intents.capture_async(
                reference, {"amount_to_capture": amount}, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _unavailable_or_rejected(exc) from exc
        return GatewayResult(approved=True, reference=intent.id, amount=intent.amount_received)

    async def void(self, *, reference: str, idempotency_key: str) -> GatewayResult:
        try:
            intent = await self._client.v1.payment_intents.cancel_async(
                reference, None, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as exc:
            raise _unavailable_or_rejected(exc) from exc
        return GatewayResult(approved=True, reference=intent.id, amount=intent.amount)

    async def refund(self, *, reference: str, amount: int, idempotency_key: str) -> GatewayResult:
        try:
            refund = await self._client.v1.refunds.create_async(
                {"payment_intent": reference, "amount": amount},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise _unavailable_or_rejected(exc) from exc
        return GatewayResult(approved=True, reference=reference, amount=refund.amount)


def _declined(exc: stripe.CardError) -> GatewayResult:
    error = exc.error
    intent = error.payment_intent if error is not None else None
    code = (error and error.decline_code) or exc.code or "card_declined"
    return GatewayResult(
        approved=False,
        reference=intent.id if intent is not None else None,
        decline_code=code,
        decline_reason=exc.user_message or "Your card was declined.",
    )


def _unavailable_or_rejected(exc: stripe.StripeError) -> Exception:
    """Unknown outcome (network, 5xx, rate limit, our keys) or a refusal that stays a refusal."""
    if isinstance(exc, stripe.APIConnectionError):
        return GatewayTimeout(f"Stripe did not answer: {exc.user_message}")
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return GatewayTimeout("Stripe refused our API key; check PIZZA_STRIPE_API_KEY.")
    if isinstance(exc, stripe.RateLimitError) or (exc.http_status or 0) >= 500:
        return GatewayTimeout(f"Stripe is unavailable ({exc.http_status}).")
    return GatewayRejected(
        f"Stripe refused the call: {exc.user_message or exc.code or 'invalid request'}",
        code="GATEWAY_REJECTED",
    )
