"""An invoice as a PDF document (fpdf2; see ``docs/payments.md`` for why this library).

Enters: an :class:`~subgraphs.payments.models.Invoice` row and the order's number.
Leaves: the bytes of a one-or-more page A4 PDF: number, dates, lines, subtotal, tax and
total, amounts formatted from minor units in the invoice's currency. Pure and
synchronous: the REST route runs it in a worker thread.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from fpdf import FPDF
from fpdf.enums import Align, TableBordersLayout
from fpdf.fonts import FontFace

from subgraphs.payments.models import Invoice

# ISO 4217 currencies without minor units (amounts are already whole units).
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"})
SELLER = "Pizza Supergraph"

_PUNCTUATION = str.maketrans(
    {"\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'}
)


def format_money(amount: int, currency: str) -> str:
    """``4302, "USD"`` → ``"USD 43.02"``; negative amounts keep their sign."""
    if currency.upper() in ZERO_DECIMAL_CURRENCIES:
        return f"{currency} {amount:,}"
    sign = "-" if amount < 0 else ""
    units, cents = divmod(abs(amount), 100)
    return f"{currency} {sign}{units:,}.{cents:02d}"


def _latin1(text: str) -> str:
    """The built-in PDF fonts cover Latin-1 only: fold what they cannot draw (no crash)."""
    text = unicodedata.normalize("NFC", text.translate(_PUNCTUATION).replace("\u2026", "..."))
    return "".join(ch if ord(ch) < 256 else _fold(ch) for ch in text)


def _fold(ch: str) -> str:
    base = "".join(
        part
        for part in unicodedata.normalize("NFKD", ch)
        if ord(part) < 256 and not unicodedata.combining(part)
    )
    return base or "?"


def _date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def render_invoice_pdf(invoice: Invoice, *, order_number: str | None = None) -> bytes:
    """The PDF of ``invoice``."""
    currency = invoice.currency
    pdf = FPDF(format="A4")
    pdf.set_title(f"Invoice {invoice.number}")
    pdf.set_author(SELLER)
    pdf.set_creation_date(invoice.issued_at)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()

    pdf.set_font("Helvetica", style="B", size=18)
    pdf.cell(0, 10, f"Invoice {invoice.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    for label, value in (
        ("Seller", SELLER),
        ("Issued", _date(invoice.issued_at)),
        ("Order", order_number or invoice.order_id),
        ("Currency", currency),
    ):
        pdf.cell(30, 6, label)
        pdf.cell(0, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    pdf.set_font("Helvetica", size=10)
    with pdf.table(
        col_widths=(100, 20, 35, 35),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT"),
        borders_layout=TableBordersLayout.HORIZONTAL_LINES,
        headings_style=FontFace(emphasis="BOLD"),
        line_height=7,
    ) as table:
        table.row(("Description", "Qty", "Unit price", "Amount"))
        for line in invoice.lines:
            table.row(
                (
                    _latin1(str(line["description"])),
                    str(line["quantity"]),
                    format_money(line["unitPrice"], currency),
                    format_money(line["total"], currency),
                )
            )
    pdf.ln(4)

    for label, amount, bold in (
        ("Subtotal", invoice.subtotal, False),
        ("Tax", invoice.tax, False),
        ("Total", invoice.total, True),
    ):
        pdf.set_font("Helvetica", style="B" if bold else "", size=12 if bold else 10)
        pdf.cell(155, 7, label, align=Align.R)
        pdf.cell(
            35, 7, format_money(amount, currency), align=Align.R, new_x="LMARGIN", new_y="NEXT"
        )
    return bytes(pdf.output())
