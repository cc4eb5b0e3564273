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

# OpenAPI metadata only (the routes read raw requests): what ``/openapi.json`` documents.
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    },
}


def _error_response(description: str) -> dict[str, object]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}


WEBHOOK_OPENAPI = {
    "parameters": [
        {
            "name": "Stripe-Signature",
            "in": "header",
            "required": False,
            "description": "t=<unix time>,v1=<hex HMAC-SHA256 of '<t>.<body>'>",
            "schema": {"type": "string"},
        }
    ],
    "requestBody": {
        "required": True,
        "description": "A gateway event, signed as sent (raw body).",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "type": {"type": "string"},
                        "data": {
                            "type": "object",
                            "properties": {"object": {"type": "object"}},
                        },
                    },
                }
            }
        },
    },
}
WEBHOOK_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "Acknowledged (``duplicate``: the event id was applied before).",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["received", "duplicate"],
                    "properties": {
                        "received": {"type": "boolean"},
                        "duplicate": {"type": "boolean"},
                    },
                }
            }
        },
    },
    400: _error_response(
        "MISSING_SIGNATURE, INVALID_SIGNATURE, SIGNATURE_EXPIRED or INVALID_PAYLOAD."
    ),
    413: _error_response("PAYLOAD_TOO_LARGE: over 1 MB or no usable Content-Length."),
    500: _error_response("INTERNAL_ERROR: a verified event could not be applied; retried."),
    503: _error_response("WEBHOOKS_NOT_CONFIGURED: no PIZZA_PAYMENT_WEBHOOK_SECRET."),
}
INVOICE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The invoice as a PDF document.",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    },
    400: _error_response("Another domain error."),
    401: {
        **_error_response("UNAUTHENTICATED: no valid bearer token or claims."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    403: _error_response("FORBIDDEN: not the order's customer, its store's staff or an admin."),
    404: _error_response("NOT_FOUND: no invoice with this number."),
}


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}}, status_code=status, headers=headers
    )


def create_rest_router(runtime: SubgraphRuntime) -> APIRouter:
    """The routes payments serves beside ``/graphql``."""
    router = APIRouter(tags=["payments"])

    @router.post(
        "/webhooks/payments",
        summary="Gateway webhooks (Stripe-signed events)",
        response_class=JSONResponse,
        responses=WEBHOOK_RESPONSES,
        openapi_extra=WEBHOOK_OPENAPI,
    )
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
        responses=INVOICE_RESPONSES,
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
