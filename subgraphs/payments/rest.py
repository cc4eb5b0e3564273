"""The REST side of the payments app: gateway webhooks and invoice PDFs.

Enters: ``POST /webhooks/payments`` (raw body + ``Stripe-Signature``) and
``GET /invoices/{number}.pdf`` (``Authorization: Bearer``). Leaves: JSON
acknowledgements and PDF documents; failures are JSON ``{"error": {"code", "message"}}``
with 400 (bad webhook), 401, 403, 404, 413 or 503 — never a stack trace.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from shared import outbox
from shared.auth import principal_from_request
from shared.errors import DomainError
from shared.subgraph import SubgraphRuntime
from subgraphs.payments import events, service, webhooks
from subgraphs.payments.config import payments_settings
from subgraphs.payments.invoice_pdf import render_invoice_pdf

log = logging.getLogger(__name__)

MAX_WEBHOOK_BYTES = 1_000_000
HTTP_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403, "NOT_FOUND": 404}


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def create_rest_router(runtime: SubgraphRuntime) -> APIRouter:
    """The routes payments serves beside ``/graphql``."""
    router = APIRouter(tags=["payments"])

    @router.post("/webhooks/payments", summary="Gateway webhooks (Stripe-signed events)")
    async def payment_webhook(request: Request) -> Response:
        config = payments_settings(runtime)
        if config.payment_webhook_secret is None:
            return _error(503, "WEBHOOKS_NOT_CONFIGURED", "Set PIZZA_PAYMENT_WEBHOOK_SECRET.")
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_WEBHOOK_BYTES:
            return _error(413, "PAYLOAD_TOO_LARGE", "The webhook body is too large.")
        body = await request.body()
        try:
            if len(body) > MAX_WEBHOOK_BYTES:
                raise webhooks.WebhookError("PAYLOAD_TOO_LARGE", "The webhook body is too large.")
            webhooks.verify_signature(
                payload=body,
                header=request.headers.get("stripe-signature"),
                secret=config.payment_webhook_secret.get_secret_value(),
                tolerance=config.payment_webhook_tolerance_seconds,
            )
            event = webhooks.parse_event(body)
        except webhooks.WebhookError as exc:
            status = 413 if exc.code == "PAYLOAD_TOO_LARGE" else 400
            return _error(status, exc.code, exc.message)
        try:
            async with outbox.session(db=runtime.db, bus=runtime.bus) as session:
                outcome = await webhooks.apply_event(session=session, event=event)
                await events.stage(session, [outcome.announcement])
                await session.commit()
        except IntegrityError:
            # The same event, delivered twice at once: the other delivery applied it.
            async with runtime.db.session() as session:
                if not await webhooks.was_applied(session=session, event=event):
                    log.exception("payment webhook %s (%s) failed", event["id"], event["type"])
                    return _error(500, "INTERNAL_ERROR", "The event could not be applied.")
            outcome = webhooks.WebhookOutcome(duplicate=True)
        except Exception:
            log.exception("payment webhook %s (%s) failed", event["id"], event["type"])
            # 5xx makes the gateway deliver it again later.
            return _error(500, "INTERNAL_ERROR", "The event could not be applied; retry later.")
        return JSONResponse({"received": True, "duplicate": outcome.duplicate})

    @router.get(
        "/invoices/{number}.pdf",
        summary="An invoice as PDF (the order's customer, its store's staff, admins)",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}}},
    )
    async def invoice_pdf(number: str, request: Request) -> Response:
        try:
            principal = await principal_from_request(request.headers, settings=runtime.settings)
            async with runtime.db.session() as session:
                invoice, payment = await service.invoice_for_download(
                    session=session, principal=principal, number=number
                )
        except DomainError as exc:
            status = HTTP_STATUS.get(exc.code, 400)
            extra = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
            return _error(status, exc.code, exc.message, **extra)
        pdf = await run_in_threadpool(
            render_invoice_pdf, invoice, order_number=payment.order_number
        )
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="{invoice.number}.pdf"',
                "Cache-Control": "private, no-store",
            },
        )

    return router
