"""payments: invoice numbers, lines and totals, the PDF and who may download it."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from shared import demo_ids
from subgraphs.payments import events, service
from subgraphs.payments.config import PaymentsSettings
from subgraphs.payments.invoice_pdf import format_money, render_invoice_pdf
from subgraphs.payments.models import Invoice
from tests.conftest import bearer, gql
from tests.subgraphs.payments.conftest import ORDER_ID, order_placed, status_changed

INVOICE = """
query($r: [_Any!]!) {
  _entities(representations: $r) { ... on Order { invoice { number pdfUrl total { amount } } } }
}"""
REPS = {"r": [{"__typename": "Order", "id": ORDER_ID}]}


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def _deliver(runtime, order_id: str = ORDER_ID, **placed) -> Invoice:
    await events.handle(runtime, order_placed(order_id=order_id, **placed))
    await events.handle(
        runtime, status_changed("DELIVERED", order_id=order_id, frm="OUT_FOR_DELIVERY")
    )
    async with runtime.db.session() as session:
        payment = await service.payment_for_order(session=session, order_id=order_id)
        return await service.issue_invoice(session=session, payment=payment)


# --- numbers -----------------------------------------------------------------------------


async def test_invoice_numbers_run_in_sequence_within_the_year(runtime) -> None:
    year = datetime.now(UTC).year
    numbers = [(await _deliver(runtime, f"ord_{i}")).number for i in range(3)]
    assert numbers == [f"INV-{year}-{n:06d}" for n in (1, 2, 3)]


async def test_each_year_starts_again_at_one(runtime) -> None:
    async with runtime.db.session() as session:
        numbers = [
            await service.next_invoice_number(
                session=session, now=datetime(year, 12, 31, tzinfo=UTC)
            )
            for year in (2026, 2026, 2027, 2026)
        ]
    assert numbers == ["INV-2026-000001", "INV-2026-000002", "INV-2027-000001", "INV-2026-000003"]


async def test_concurrent_captures_never_share_a_number(runtime) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)

    async def take() -> str:
        async with runtime.db.session() as session:
            number = await service.next_invoice_number(session=session, now=now)
            await session.commit()
            return number

    numbers = await asyncio.gather(*(take() for _ in range(8)))
    assert sorted(numbers) == [f"INV-2026-{n:06d}" for n in range(1, 9)]


async def test_a_rolled_back_capture_leaves_no_gap(runtime) -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    async with runtime.db.session() as session:
        assert await service.next_invoice_number(session=session, now=now) == "INV-2026-000001"
        await session.rollback()
    async with runtime.db.session() as session:
        assert await service.next_invoice_number(session=session, now=now) == "INV-2026-000001"


# --- lines and totals --------------------------------------------------------------------


async def test_discounts_are_a_negative_line_and_totals_add_up(runtime) -> None:
    usd = lambda amount: {"amount": amount, "currency": "USD"}  # noqa: E731
    price = {
        "subtotal": usd(3198),
        "discounts": usd(500),
        "deliveryFee": usd(499),
        "surcharge": usd(0),
        "tax": usd(264),
        "tip": usd(0),
        "total": usd(3461),
    }
    invoice = await _deliver(runtime, total=usd(3461), price=price)
    assert [(line["description"], line["total"]) for line in invoice.lines] == [
        ("Pepperoni Pizza (Large Hand Tossed)", 3198),
        ("Discounts", -500),
        ("Delivery fee", 499),
    ]
    assert (invoice.subtotal, invoice.tax, invoice.total) == (3197, 264, 3461)


async def test_an_order_without_a_usable_breakdown_is_one_line(runtime) -> None:
    invoice = await _deliver(runtime, lines=[], price={})
    assert invoice.lines == [
        {"description": "Order 1125-0001", "quantity": 1, "unitPrice": 4302, "total": 4302}
    ]
    assert (invoice.subtotal, invoice.tax, invoice.total) == (4302, 0, 4302)


# --- PDF ---------------------------------------------------------------------------------


def test_the_pdf_shows_number_lines_and_totals() -> None:
    invoice = Invoice(
        id="inv_1",
        order_id="ord_1",
        payment_id="pay_1",
        number="INV-2026-000042",
        lines=[
            {"description": "Jalapeño — Pizza 🍕", "quantity": 2, "unitPrice": 1599, "total": 3198}
        ],
        subtotal=3198,
        tax=264,
        total=3462,
        currency="USD",
        issued_at=datetime(2026, 11, 25, 18, 0, tzinfo=UTC),
    )
    pdf = render_invoice_pdf(invoice, order_number="1125-0001")
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for expected in ("INV-2026-000042", "1125-0001", "Jalapeño - Pizza", "USD 31.98", "USD 34.62"):
        assert expected in text


def test_money_is_formatted_from_minor_units() -> None:
    assert format_money(4302, "USD") == "USD 43.02"
    assert format_money(-500, "EUR") == "EUR -5.00"
    assert format_money(123456, "USD") == "USD 1,234.56"
    assert format_money(1500, "JPY") == "JPY 1,500"


@pytest.fixture
async def invoiced(payments_app) -> str:
    """The payments app with the demo customer's order delivered; returns the invoice number."""
    return (await _deliver(payments_app.runtime)).number


async def test_the_customer_downloads_the_pdf_of_their_invoice(
    payments_app, invoiced, settings
) -> None:
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    response = await payments_app.get(f"/invoices/{invoiced}.pdf", headers=customer)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert invoiced in text and "USD 43.02" in text


async def test_staff_of_the_store_and_admins_download_it_too(
    payments_app, invoiced, settings
) -> None:
    for headers in (
        bearer(settings, demo_ids.STAFF_DOWNTOWN, "STAFF", store_id=demo_ids.STORE_DOWNTOWN),
        bearer(settings, "usr_admin", "ADMIN"),
    ):
        response = await payments_app.get(f"/invoices/{invoiced}.pdf", headers=headers)
        assert response.status_code == 200


async def test_no_or_a_bad_token_is_401(payments_app, invoiced) -> None:
    for headers in ({}, {"authorization": "Bearer forged"}, {"authorization": "Basic x"}):
        response = await payments_app.get(f"/invoices/{invoiced}.pdf", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_other_customers_and_other_stores_staff_get_403(
    payments_app, invoiced, settings
) -> None:
    for headers in (
        bearer(settings, "usr_stranger", "CUSTOMER"),
        bearer(settings, "usr_s2", "STAFF", store_id=demo_ids.STORE_EAST),
    ):
        response = await payments_app.get(f"/invoices/{invoiced}.pdf", headers=headers)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "FORBIDDEN"


async def test_an_unknown_invoice_is_404(payments_app, invoiced, settings) -> None:
    admin = bearer(settings, "usr_admin", "ADMIN")
    response = await payments_app.get("/invoices/INV-1999-000001.pdf", headers=admin)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_graphql_gives_the_pdf_url(payments_app, invoiced, settings) -> None:
    customer = bearer(settings, demo_ids.CUSTOMER_USER, "CUSTOMER")
    body = await gql(payments_app, INVOICE, REPS, headers=customer)
    invoice = body["data"]["_entities"][0]["invoice"]
    assert invoice["number"] == invoiced
    assert invoice["pdfUrl"] == f"http://127.0.0.1:4005/invoices/{invoiced}.pdf"
    payments_app.runtime.extras["payments_settings"] = PaymentsSettings(
        invoice_base_url="https://pay.example.com/"
    )
    body = await gql(payments_app, INVOICE, REPS, headers=customer)
    url = body["data"]["_entities"][0]["invoice"]["pdfUrl"]
    assert url == f"https://pay.example.com/invoices/{invoiced}.pdf"
    path = url.removeprefix("https://pay.example.com")
    assert (await payments_app.get(path, headers=customer)).status_code == 200
