"""The payment gateway port and the local test gateway of embedded mode.

Enters: tokens from the payment form, amounts in minor units and an idempotency
key per call. Leaves: a :class:`GatewayResult` (approved or declined, with the
gateway's reference), or :class:`GatewayTimeout` when the gateway did not answer.
A real provider (e.g. Stripe's SDK) implements :class:`PaymentGateway` the same way;
``payments.service`` sees only the protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from shared.errors import DomainError
from shared.ids import new_id


@dataclass(frozen=True, slots=True)
class GatewayResult:
    """What the gateway answered to one call."""

    approved: bool
    reference: str | None = None
    amount: int = 0
    decline_code: str | None = None
    decline_reason: str | None = None


class GatewayTimeout(Exception):
    """The gateway did not answer in time; the outcome is unknown."""


class GatewayRejected(DomainError):
    """The gateway refused a call that can never succeed (e.g. capturing more than held)."""

    code = "GATEWAY_REJECTED"


class PaymentGateway(Protocol):
    """Authorize, capture, void and refund, each made safe to retry by an idempotency key."""

    async def authorize(
        self,
        *,
        token: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> GatewayResult:
        """Hold ``amount`` on the card behind ``token``.

        ``metadata`` (our payment and order ids) is stored with the charge so that the
        gateway's webhooks can be matched to the payment even when this call timed out.
        """

    async def capture(self, *, reference: str, amount: int, idempotency_key: str) -> GatewayResult:
        """Take ``amount`` (at most what was held) of the authorization ``reference``."""

    async def void(self, *, reference: str, idempotency_key: str) -> GatewayResult:
        """Release an authorization that was not captured."""

    async def refund(self, *, reference: str, amount: int, idempotency_key: str) -> GatewayResult:
        """Pay back ``amount`` of a captured charge."""


_DECLINED = ("card_declined", "Your card was declined.")
_INSUFFICIENT = ("insufficient_funds", "Your card has insufficient funds.")
_EXPIRED = ("expired_card", "Your card has expired.")

# Stripe's test tokens and test card numbers, so a form filled for one works with the other.
APPROVED_TOKENS = frozenset(
    {
        "tok_visa",
        "tok_mastercard",
        "tok_amex",
        "tok_giftcard",
        "4242424242424242",  # Visa
        "5555555555554444",  # Mastercard
        "378282246310005",  # American Express
    }
)
DECLINED_TOKENS = {
    "tok_chargeDeclined": _DECLINED,
    "tok_chargeDeclinedInsufficientFunds": _INSUFFICIENT,
    "tok_chargeDeclinedExpiredCard": _EXPIRED,
    "4000000000000002": _DECLINED,
    "4000000000009995": _INSUFFICIENT,
    "4000000000000069": _EXPIRED,
}
TIMEOUT_TOKEN = "tok_timeout"
TIMEOUT_TOKENS = frozenset({TIMEOUT_TOKEN, "4000000000000119"})


def _normalized(token: str) -> str:
    """A card number as typed (``4242 4242-4242 4242``) is the same test card."""
    digits = token.replace(" ", "").replace("-", "")
    return digits if digits.isdigit() else token


@dataclass
class _Charge:
    amount: int
    currency: str
    captured: int = 0
    refunded: int = 0
    voided: bool = False


@dataclass
class TestGateway:
    """A deterministic in-memory gateway with Stripe-like test tokens.

    ``tok_visa``, ``tok_mastercard``, ``tok_amex``, ``tok_giftcard`` (and the card numbers
    4242 4242 4242 4242, 5555 5555 5555 4444, 3782 822463 10005) succeed;
    ``tok_chargeDeclined...`` (4000 0000 0000 0002, ...9995, ...0069) decline with a reason;
    ``tok_timeout`` (4000 0000 0000 0119) raises :class:`GatewayTimeout`. A repeated idempotency key returns the first result
    without doing anything again; ``operations`` lists what was really executed.
    """

    __test__ = False  # not a pytest test class

    charges: dict[str, _Charge] = field(default_factory=dict)
    operations: list[tuple[str, str]] = field(default_factory=list)
    _results: dict[str, tuple[str, GatewayResult]] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def _once(self, operation: str, key: str, run) -> GatewayResult:
        async with self._lock:
            seen = self._results.get(key)
            if seen is not None:
                if seen[0] != operation:
                    raise GatewayRejected(f"Idempotency key {key!r} was used for {seen[0]}.")
                return seen[1]
            result = run()
            self.operations.append((operation, key))
            self._results[key] = (operation, result)
            return result

    def _charge(self, reference: str) -> _Charge:
        charge = self.charges.get(reference)
        if charge is None:
            raise GatewayRejected(f"No charge {reference!r} at the gateway.")
        return charge

    async def authorize(
        self,
        *,
        token: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> GatewayResult:
        token = _normalized(token)
        if token in TIMEOUT_TOKENS:
            raise GatewayTimeout(f"The test gateway timed out ({token}).")

        def run() -> GatewayResult:
            if token in DECLINED_TOKENS:
                code, reason = DECLINED_TOKENS[token]
                return GatewayResult(approved=False, decline_code=code, decline_reason=reason)
            if token not in APPROVED_TOKENS:
                return GatewayResult(
                    approved=False,
                    decline_code="invalid_token",
                    decline_reason="The card details were not recognised.",
                )
            reference = new_id("ch")
            self.charges[reference] = _Charge(amount=amount, currency=currency)
            return GatewayResult(approved=True, reference=reference, amount=amount)

        return await self._once("authorize", idempotency_key, run)

    async def capture(self, *, reference: str, amount: int, idempotency_key: str) -> GatewayResult:
        def run() -> GatewayResult:
            charge = self._charge(reference)
            if charge.voided or charge.captured or amount > charge.amount:
                raise GatewayRejected("The authorization cannot be captured for that amount.")
            charge.captured = amount
            return GatewayResult(approved=True, reference=reference, amount=amount)

        return await self._once("capture", idempotency_key, run)

    async def void(self, *, reference: str, idempotency_key: str) -> GatewayResult:
        def run() -> GatewayResult:
            charge = self._charge(reference)
            if charge.captured:
                raise GatewayRejected("A captured charge cannot be voided; refund it.")
            charge.voided = True
            return GatewayResult(approved=True, reference=reference, amount=charge.amount)

        return await self._once("void", idempotency_key, run)

    async def refund(self, *, reference: str, amount: int, idempotency_key: str) -> GatewayResult:
        def run() -> GatewayResult:
            charge = self._charge(reference)
            if amount <= 0 or charge.refunded + amount > charge.captured:
                raise GatewayRejected("The refund exceeds what was captured.")
            charge.refunded += amount
            return GatewayResult(approved=True, reference=reference, amount=amount)

        return await self._once("refund", idempotency_key, run)
