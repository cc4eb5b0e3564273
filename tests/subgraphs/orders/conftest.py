"""Fixtures of the orders tests: a fake menu+geo catalog, a recording bus, a migrated runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from shared import demo_ids
from shared.auth import Principal
from shared.bus import Event
from shared.errors import DomainError
from shared.settings import Settings
from shared.subgraph import SubgraphRuntime
from subgraphs.orders.catalog import CartLine, DeliveryQuote, PricedLine, PricedLines
from subgraphs.orders.pricing import Cart, DeliveryAddress

STORE = demo_ids.STORE_DOWNTOWN
OTHER_STORE = demo_ids.STORE_EAST
CUSTOMER = Principal(user_id=demo_ids.CUSTOMER_USER, roles=frozenset({"CUSTOMER"}))
STRANGER = Principal(user_id="usr_stranger", roles=frozenset({"CUSTOMER"}))
STAFF = Principal(
    user_id=demo_ids.STAFF_DOWNTOWN, roles=frozenset({"STAFF"}), store_id=demo_ids.STORE_DOWNTOWN
)
OTHER_STAFF = Principal(user_id="usr_staff_east", roles=frozenset({"STAFF"}), store_id=OTHER_STORE)
ADMIN = Principal(user_id=demo_ids.ADMIN_USER, roles=frozenset({"ADMIN"}))
HOME = DeliveryAddress(
    line1="1100 Congress Ave", city="Austin", postcode="78701", lat=30.2747, lng=-97.7404
)
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)

PRICES = {"var_pepperoni_14": 1599, "var_cheese_12": 1199, "var_cola": 299}
"""Unit prices of the fake menu, in cents."""


def open_quote(**changes: Any) -> DeliveryQuote:
    """An open downtown store that serves the address: $4.99 fee, $10 minimum, 8.25% tax."""
    quote = DeliveryQuote(
        store_id=STORE,
        can_serve=True,
        is_open=True,
        delivery_fee=499,
        minimum_order=1000,
        tax_rate_basis_points=825,
        currency="USD",
        time_zone="America/Chicago",
    )
    return replace(quote, **changes)


@dataclass
class FakeCatalog:
    """menu and geo as the contract describes them, from two dicts."""

    prices: dict[str, int] = field(default_factory=lambda: dict(PRICES))
    quote: DeliveryQuote = field(default_factory=open_quote)
    opens_at: datetime | None = None
    """When set, the store is closed now and opens then (for scheduled orders)."""
    price_calls: list[list[CartLine]] = field(default_factory=list)
    quote_calls: list[tuple[str, str, tuple[float, float] | None]] = field(default_factory=list)

    async def price_lines(self, *, store_id: str, lines: list[CartLine]) -> PricedLines:
        self.price_calls.append(lines)
        priced = []
        for i, line in enumerate(lines):
            if line.variant_id not in self.prices:
                raise DomainError(
                    "That item is not on this store's menu.",
                    code="UNKNOWN_VARIANT",
                    field=f"lines[{i}].variantId",
                )
            unit = self.prices[line.variant_id]
            priced.append(
                PricedLine(
                    index=i,
                    variant_id=line.variant_id,
                    product_id=line.variant_id.replace("var_", "prd_"),
                    product_name=line.variant_id.removeprefix("var_").title(),
                    variant_name="Standard",
                    category_code="PIZZA",
                    size=None,
                    quantity=line.quantity,
                    unit_price=unit,
                    line_total=unit * line.quantity,
                    description="",
                    currency="USD",
                )
            )
        return PricedLines(lines=priced, subtotal=sum(p.line_total for p in priced), currency="USD")

    async def delivery_quote(
        self,
        *,
        store_id: str,
        service_method: str,
        location: tuple[float, float] | None,
        at: datetime | None = None,
    ) -> DeliveryQuote:
        self.quote_calls.append((store_id, service_method, location))
        quote = replace(self.quote, store_id=store_id)
        if self.opens_at is not None:
            quote = replace(quote, is_open=at is not None and at >= self.opens_at)
        return quote


def delivery_cart(**changes: Any) -> Cart:
    """Two large pepperonis to the demo customer's home (subtotal 31.98)."""
    cart = Cart(
        store_id=STORE,
        service_method="DELIVERY",
        lines=[CartLine(variant_id="var_pepperoni_14", quantity=2)],
        delivery_address=HOME,
    )
    return replace(cart, **changes)


def carryout_cart(**changes: Any) -> Cart:
    """One medium cheese pizza to pick up (subtotal 11.99)."""
    cart = Cart(
        store_id=STORE,
        service_method="CARRYOUT",
        lines=[CartLine(variant_id="var_cheese_12", quantity=1)],
    )
    return replace(cart, **changes)


class RecordingBus:
    """A bus that only remembers what was published."""

    def __init__(self) -> None:
        self.published: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.published.append(event)

    def subscribe(self, **_: Any) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def of_type(self, event_type: str) -> list[Event]:
        """The published events of one type."""
        return [e for e in self.published if e.type == event_type]


@pytest.fixture
def catalog() -> FakeCatalog:
    """A fresh fake catalog."""
    return FakeCatalog()


@pytest.fixture
def recording_bus() -> RecordingBus:
    """A fresh recording bus."""
    return RecordingBus()


@pytest.fixture
async def runtime(
    settings: Settings, recording_bus: RecordingBus
) -> AsyncIterator[SubgraphRuntime]:
    """An orders runtime with a migrated database and the recording bus."""
    runtime = SubgraphRuntime.create("orders", settings=settings, bus=recording_bus)
    await runtime.db.migrate()
    yield runtime
    await runtime.db.dispose()


@pytest.fixture
async def session(runtime: SubgraphRuntime):
    """A session on the orders database."""
    async with runtime.db.session() as session:
        yield session
