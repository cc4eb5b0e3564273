"""GraphQL schema of the payments subgraph: ``Order.payment`` and ``Order.invoice``, staff
capture and refund.

Thin: resolvers check access, call ``service`` and map rows to types.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry
from strawberry.types import Info

from shared import outbox
from shared.auth import require_principal
from shared.gql_types import Money, money
from shared.subgraph import SubgraphContext, create_schema
from subgraphs.payments import events, models, refunds, service
from subgraphs.payments.config import invoice_pdf_url, payments_settings


@strawberry.enum(description="Where the money of a payment stands.")
class PaymentStatus(Enum):
    PENDING = strawberry.enum_value(
        "PENDING", description="Not authorized yet, or cash to collect at handover."
    )
    AUTHORIZED = strawberry.enum_value("AUTHORIZED", description="The amount is held on the card.")
    CAPTURED = strawberry.enum_value("CAPTURED", description="The money was taken.")
    VOIDED = strawberry.enum_value("VOIDED", description="The hold was released; nothing taken.")
    REFUNDED = strawberry.enum_value("REFUNDED", description="All the money was paid back.")
    DECLINED = strawberry.enum_value("DECLINED", description="The card was declined.")
    FAILED = strawberry.enum_value(
        "FAILED", description="The payment provider did not answer; nothing was taken."
    )


@strawberry.enum(description="How an order is paid.")
class PaymentMethodType(Enum):
    CARD = strawberry.enum_value("CARD", description="A card, through the payment gateway.")
    CASH = strawberry.enum_value("CASH", description="Cash to the driver or at the counter.")
    GIFT_CARD = strawberry.enum_value("GIFT_CARD", description="A gift card of the chain.")


@strawberry.type(description="The payment of an order.")
class Payment:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    status: PaymentStatus = strawberry.field(description="Where the money stands.")
    method: PaymentMethodType = strawberry.field(description="How it is paid.")
    amount: Money = strawberry.field(description="The amount to take (the order's total).")
    refunded_amount: Money = strawberry.field(description="How much was paid back so far.")
    authorized_at: datetime | None = strawberry.field(description="When the amount was held.")
    captured_at: datetime | None = strawberry.field(description="When the money was taken.")
    refunded_at: datetime | None = strawberry.field(description="When money was last paid back.")
    decline_reason: str | None = strawberry.field(
        description="Why the payment was declined or failed."
    )

    @classmethod
    def from_row(cls, row: models.Payment) -> Payment:
        return cls(
            id=strawberry.ID(row.id),
            status=PaymentStatus(row.status),
            method=PaymentMethodType(row.method),
            amount=money(row.amount, row.currency),
            refunded_amount=money(row.refunded_amount, row.currency),
            authorized_at=row.authorized_at,
            captured_at=row.captured_at,
            refunded_at=row.refunded_at,
            decline_reason=row.decline_reason,
        )


@strawberry.type(description="One line of an invoice.")
class InvoiceLine:
    description: str = strawberry.field(description="What was sold or charged.")
    quantity: int = strawberry.field(description="How many.")
    unit_price: Money = strawberry.field(description="Price of one.")
    total: Money = strawberry.field(description="unitPrice times quantity.")


@strawberry.type(description="The invoice of a paid order, issued when the money is taken.")
class Invoice:
    number: str = strawberry.field(description="Invoice number, e.g. INV-2026-000042.")
    lines: list[InvoiceLine] = strawberry.field(
        description="Products, then fees, discounts and tip."
    )
    subtotal: Money = strawberry.field(description="Sum of the lines, before tax.")
    tax: Money = strawberry.field(description="Sales tax.")
    total: Money = strawberry.field(description="subtotal + tax: what was charged.")
    issued_at: datetime = strawberry.field(description="When it was issued (UTC).")

    @strawberry.field(
        description="Where the invoice is downloaded as PDF (GET with the same bearer token)."
    )
    def pdf_url(self, info: Info[SubgraphContext, None]) -> str:
        runtime = info.context.runtime
        return invoice_pdf_url(
            config=payments_settings(runtime), settings=runtime.settings, number=self.number
        )

    @classmethod
    def from_row(cls, row: models.Invoice) -> Invoice:
        c = row.currency
        return cls(
            number=row.number,
            lines=[
                InvoiceLine(
                    description=line["description"],
                    quantity=line["quantity"],
                    unit_price=money(line["unitPrice"], c),
                    total=money(line["total"], c),
                )
                for line in row.lines
            ],
            subtotal=money(row.subtotal, c),
            tax=money(row.tax, c),
            total=money(row.total, c),
            issued_at=row.issued_at,
        )


async def _readable_payment(
    info: Info[SubgraphContext, None], order_id: str
) -> models.Payment | None:
    row = await info.context.loaders.payment_by_order.load(order_id)
    if row is None or not service.can_read_payment(info.context.principal, row):
        return None
    return row


@strawberry.federation.type(keys=["id"], description="A customer's order (owned by orders).")
class Order:
    id: strawberry.ID = strawberry.field(description="Opaque id of the order.")

    @strawberry.field(
        description="The order's payment (its customer, staff of its store and admins)."
    )
    async def payment(self, info: Info[SubgraphContext, None]) -> Payment | None:
        row = await _readable_payment(info, str(self.id))
        return Payment.from_row(row) if row else None

    @strawberry.field(description="The invoice, once the money was taken.")
    async def invoice(self, info: Info[SubgraphContext, None]) -> Invoice | None:
        if await _readable_payment(info, str(self.id)) is None:
            return None
        row = await info.context.loaders.invoice_by_order.load(str(self.id))
        return Invoice.from_row(row) if row else None

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Order:
        return cls(id=id)


@strawberry.input(description="Which order's payment to capture.")
class CapturePaymentInput:
    order_id: strawberry.ID = strawberry.field(description="The order.")


@strawberry.input(description="Which order's payment to refund, how much and why.")
class RefundPaymentInput:
    order_id: strawberry.ID = strawberry.field(description="The order.")
    amount: int | None = strawberry.field(
        default=None, description="Minor units to pay back; omit for all that is left."
    )
    reason: str | None = strawberry.field(
        default=None, description="Why, in a few words (kept with the refund)."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A key the client generates per refund (1-200 characters); sending the "
        "same request again with it returns the first refund instead of paying back twice. "
        "Omitted: the same amount for the same reason counts as the same request.",
    )


@strawberry.type(description="Result of capturePayment.")
class CapturePaymentPayload:
    payment: Payment = strawberry.field(description="The captured payment.")
    invoice: Invoice | None = strawberry.field(description="The invoice issued with it.")


@strawberry.type(description="Money paid back on a payment, by one refund request.")
class Refund:
    id: strawberry.ID = strawberry.field(description="Opaque id.")
    amount: Money = strawberry.field(description="How much was paid back.")
    reason: str | None = strawberry.field(description="Why, as given.")
    created_at: datetime = strawberry.field(description="When it was paid back (UTC).")

    @classmethod
    def from_row(cls, row: models.Refund, currency: str) -> Refund:
        return cls(
            id=strawberry.ID(row.id),
            amount=money(row.amount, currency),
            reason=row.reason,
            created_at=row.created_at,
        )


@strawberry.type(description="Result of refundPayment.")
class RefundPaymentPayload:
    payment: Payment = strawberry.field(description="The payment after the refund.")
    refund: Refund = strawberry.field(description="The refund this request made.")
    replayed: bool = strawberry.field(
        description="True when this request was carried out before: its first refund is "
        "returned and nothing more was paid back."
    )


@strawberry.type
class Query:
    @strawberry.field(
        description="The payment of an order (its customer, staff of its store, admins)."
    )
    async def payment(
        self,
        info: Info[SubgraphContext, None],
        order_id: Annotated[strawberry.ID, strawberry.argument(description="The order's id.")],
    ) -> Payment | None:
        row = await _readable_payment(info, str(order_id))
        return Payment.from_row(row) if row else None


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Take the held amount now (store staff, admins).")
    async def capture_payment(
        self,
        info: Info[SubgraphContext, None],
        input: Annotated[
            CapturePaymentInput, strawberry.argument(description="The order to capture.")
        ],
    ) -> CapturePaymentPayload:
        runtime = info.context.runtime
        async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
            payment = await service.staff_payment(
                session=session, principal=info.context.principal, order_id=str(input.order_id)
            )
            announcement = await service.capture(
                session=session, gateway=events.gateway_of(runtime), payment=payment
            )
            invoice = await service.issue_invoice(session=session, payment=payment)
            await events.stage(session, [announcement])
            await session.commit()
        return CapturePaymentPayload(
            payment=Payment.from_row(payment), invoice=Invoice.from_row(invoice)
        )

    @strawberry.mutation(
        description="Pay back some or all of a captured payment (store staff), once per "
        "request: a repeated request returns its first refund. Paid back in full, the order "
        "becomes REFUNDED."
    )
    async def refund_payment(
        self,
        info: Info[SubgraphContext, None],
        input: Annotated[
            RefundPaymentInput,
            strawberry.argument(description="The order, the amount and the request's key."),
        ],
    ) -> RefundPaymentPayload:
        runtime = info.context.runtime
        caller = require_principal(info.context.principal)
        async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
            payment = await service.staff_payment(
                session=session, principal=caller, order_id=str(input.order_id)
            )
            outcome = await refunds.refund(
                session=session,
                gateway=events.gateway_of(runtime),
                payment=payment,
                key=refunds.request_key(
                    idempotency_key=input.idempotency_key, amount=input.amount, reason=input.reason
                ),
                actor=caller.user_id,
                amount=input.amount,
                reason=input.reason,
            )
            await events.stage(session, [outcome.announcement])
            await session.commit()
        return RefundPaymentPayload(
            payment=Payment.from_row(payment),
            refund=Refund.from_row(outcome.refund, payment.currency),
            replayed=outcome.replayed,
        )


schema = create_schema(query=Query, mutation=Mutation, types=(Order,))
