"""Configuration of the payments subgraph (``PIZZA_`` environment variables, pydantic-settings).

Enters: the environment. Leaves: :class:`PaymentsSettings` (which gateway, Stripe's keys,
the webhook signing secret, where invoice PDFs are served) and the configured
:class:`~subgraphs.payments.gateway.PaymentGateway`. Embedded mode needs none of them:
the local test gateway is the default. Every variable is listed in ``docs/payments.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import Settings
from shared.subgraph import SubgraphRuntime
from subgraphs.payments.gateway import PaymentGateway, TestGateway


class PaymentsSettings(BaseSettings):
    """What only payments reads; the process-wide settings stay in ``shared.settings``."""

    model_config = SettingsConfigDict(env_prefix="PIZZA_", extra="ignore")

    payment_gateway: Literal["test", "stripe"] = Field(
        default="test", description="test (local, deterministic tokens) or stripe"
    )
    stripe_api_key: SecretStr | None = Field(
        default=None, description="Stripe secret key (sk_test_... / sk_live_... / rk_...)"
    )
    stripe_timeout_seconds: float = Field(default=10.0, description="per Stripe HTTP request")
    stripe_max_network_retries: int = Field(
        default=2, description="SDK retries of failed requests (same idempotency key)"
    )
    payment_webhook_secret: SecretStr | None = Field(
        default=None,
        description="signing secret of POST /webhooks/payments (Stripe's whsec_...); "
        "unset: webhooks are refused with 503",
    )
    payment_webhook_tolerance_seconds: int = Field(
        default=300, description="how old (or early) a signed webhook may be"
    )
    invoice_base_url: str = Field(
        default="",
        description="public base URL of the payments app for Invoice.pdfUrl; "
        "empty: the payments subgraph's own URL",
    )


def payments_settings(runtime: SubgraphRuntime) -> PaymentsSettings:
    """The payments settings of this runtime (read from the environment once, unless given)."""
    return runtime.extras.setdefault("payments_settings", PaymentsSettings())


def create_gateway(config: PaymentsSettings) -> PaymentGateway:
    """The gateway ``PIZZA_PAYMENT_GATEWAY`` names: the test gateway or the Stripe adapter."""
    if config.payment_gateway == "stripe":
        if config.stripe_api_key is None or not config.stripe_api_key.get_secret_value():
            raise RuntimeError("PIZZA_PAYMENT_GATEWAY=stripe needs PIZZA_STRIPE_API_KEY.")
        from subgraphs.payments.stripe_gateway import StripeGateway

        return StripeGateway.from_api_key(
            config.stripe_api_key.get_secret_value(),
            timeout_seconds=config.stripe_timeout_seconds,
            max_network_retries=config.stripe_max_network_retries,
        )
    return TestGateway()


def invoice_pdf_url(*, config: PaymentsSettings, settings: Settings, number: str) -> str:
    """Where the PDF of invoice ``number`` is downloaded (``GET /invoices/{number}.pdf``)."""
    base = config.invoice_base_url or settings.subgraph_url("payments").removesuffix("/graphql")
    return f"{base.rstrip('/')}/invoices/{number}.pdf"
