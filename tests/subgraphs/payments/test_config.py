"""payments: the gateway is chosen by PIZZA_PAYMENT_GATEWAY (the test gateway by default)."""

from __future__ import annotations

import pytest

from subgraphs.payments.config import PaymentsSettings, create_gateway
from subgraphs.payments.gateway import TestGateway
from subgraphs.payments.stripe_gateway import StripeGateway


def test_the_test_gateway_is_the_default(monkeypatch) -> None:
    monkeypatch.delenv("PIZZA_PAYMENT_GATEWAY", raising=False)
    assert isinstance(create_gateway(PaymentsSettings()), TestGateway)


def test_stripe_is_chosen_by_environment(monkeypatch) -> None:
    monkeypatch.setenv("PIZZA_PAYMENT_GATEWAY", "stripe")
    monkeypatch.setenv("PIZZA_STRIPE_API_KEY", "sk_test_x")
    config = PaymentsSettings()
    assert "sk_test_x" not in repr(config)  # a secret, never logged
    assert isinstance(create_gateway(config), StripeGateway)


def test_stripe_without_a_key_refuses_to_start(monkeypatch) -> None:
    monkeypatch.setenv("PIZZA_PAYMENT_GATEWAY", "stripe")
    monkeypatch.delenv("PIZZA_STRIPE_API_KEY", raising=False)
    with pytest.raises(RuntimeError, match="PIZZA_STRIPE_API_KEY"):
        create_gateway(PaymentsSettings())
