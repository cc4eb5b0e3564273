"""payments: the schema documents itself (every public type, field, argument and enum value)."""

from __future__ import annotations

from subgraphs.payments.schema import schema
from tests.subgraphs.orders.test_schema import undocumented


def test_every_public_element_has_a_description() -> None:
    assert undocumented(schema._schema) == []


def test_order_is_extended_with_payment_and_invoice() -> None:
    sdl = schema.as_str()
    assert 'type Order @key(fields: "id")' in sdl
    assert "payment: Payment" in sdl and "invoice: Invoice" in sdl
    assert "pdfUrl: String!" in sdl
