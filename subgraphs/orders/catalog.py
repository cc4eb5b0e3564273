"""What orders asks menu and geo: prices of cart lines and a store's delivery quote.

Enters: a store id, cart lines, a service method and a location. Leaves: plain
dataclasses (:class:`PricedLine`, :class:`DeliveryQuote`). ``service.py`` only
sees the :class:`Catalog` protocol; :class:`SubgraphCatalog` asks the owners over
GraphQL (``call_subgraph``) and tests pass a fake.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import httpx

from shared.settings import Settings
from shared.subgraph_client import call_subgraph
from subgraphs.orders import coupons


@dataclass(frozen=True, slots=True)
class CartLine:
    """One line the customer asks for, as menu's ``OrderLineInput`` takes it."""

    variant_id: str
    quantity: int
    toppings: list[dict[str, str]] | None = None
    """``{"toppingCode", "placement", "amount"}`` each; None keeps the defaults."""
    instructions: dict[str, Any] | None = None
    """``{"bake", "cut", "seasoning"}``; None is the standard bake and cut."""

    def to_variables(self) -> dict[str, Any]:
        """The line as a GraphQL ``OrderLineInput`` variable."""
        value: dict[str, Any] = {"variantId": self.variant_id, "quantity": self.quantity}
        if self.toppings is not None:
            value["toppings"] = self.toppings
        if self.instructions is not None:
            value["instructions"] = self.instructions
        return value


@dataclass(frozen=True, slots=True)
class PricedLine:
    """A line as menu priced it."""

    index: int
    variant_id: str
    product_id: str
    product_name: str
    variant_name: str
    category_code: str
    size: int | None
    quantity: int
    unit_price: int
    line_total: int
    description: str
    currency: str


@dataclass(frozen=True, slots=True)
class PricedLines:
    """menu's answer to ``priceLines``."""

    lines: list[PricedLine]
    subtotal: int
    currency: str


SMALL_ORDER_THRESHOLD = 1000
"""The chain's small-order line: items below 10.00 (minor units) pay the surcharge."""
SMALL_ORDER_SURCHARGE = 100
"""The chain's small-order surcharge: 1.00 (minor units)."""


@dataclass(frozen=True, slots=True)
class DeliveryQuote:
    """geo's answer to ``deliveryQuote`` (amounts in minor units of ``currency``)."""

    store_id: str
    can_serve: bool
    is_open: bool
    delivery_fee: int
    minimum_order: int
    tax_rate_basis_points: int
    currency: str
    reason: str | None = None
    reason_code: str | None = None
    """geo's code for ``can_serve`` false: OUT_OF_ZONE, TOO_FAR, LOCATION_REQUIRED..."""
    distance_meters: int | None = None
    wait_min_minutes: int = 0
    wait_max_minutes: int = 0
    time_zone: str = "UTC"
    tipping_allowed: bool = True
    payment_methods: tuple[str, ...] | None = None
    """What the store accepts (CARD, CASH, GIFT_CARD); None when unknown."""
    small_order_threshold: int = SMALL_ORDER_THRESHOLD
    """Items subtotals below this pay ``small_order_surcharge`` (0: no small-order rule)."""
    small_order_surcharge: int = SMALL_ORDER_SURCHARGE
    """The store's small-order surcharge. geo does not publish the rule per store yet, so
    :class:`SubgraphCatalog` quotes the chain's defaults."""


class Catalog(Protocol):
    """The two questions orders asks other subgraphs."""

    async def price_lines(self, *, store_id: str, lines: list[CartLine]) -> PricedLines:
        """Validate and price ``lines`` at ``store_id``; raises menu's DomainError as is."""

    async def delivery_quote(
        self,
        *,
        store_id: str,
        service_method: str,
        location: tuple[float, float] | None,
        at: datetime | None = None,
    ) -> DeliveryQuote:
        """Whether and at what cost ``store_id`` serves ``location`` at ``at`` (None: now)."""

    # Asked only for carts with coupon codes (menu's quoteCoupons).
    async def quote_coupons(
        self,
        *,
        store_id: str,
        service_method: str,
        codes: list[str],
        lines: list[CartLine],
        at: datetime,
    ) -> list[coupons.AppliedCoupon]:
        """What ``codes`` take off ``lines``; raises menu's DomainError (field ``codes[i]``)."""


PRICE_LINES = """
query PriceLines($storeId: ID!, $lines: [OrderLineInput!]!) {
  priceLines(storeId: $storeId, lines: $lines) {
    subtotal { amount currency }
    lines {
      index variantId productId productName variantName categoryCode size quantity
      unitPrice { amount currency } lineTotal { amount currency } description
    }
  }
}"""

DELIVERY_QUOTE = """
query DeliveryQuote(
  $storeId: ID!, $serviceMethod: ServiceMethod!, $location: GeoPointInput, $at: DateTime
) {
  deliveryQuote(storeId: $storeId, serviceMethod: $serviceMethod, location: $location, at: $at) {
    storeId canServe reasonCode reason isOpen distanceMeters
    deliveryFee { amount currency } minimumOrder { amount currency }
    taxRateBasisPoints waitTime { minMinutes maxMinutes } timeZone
  }
  store(id: $storeId) { tippingAllowed acceptedPaymentMethods }
}"""


@dataclass
class SubgraphCatalog:
    """The :class:`Catalog` that asks menu and geo over GraphQL."""

    settings: Settings
    peers: Mapping[str, httpx.AsyncClient] | None = None
    authorization: str | None = None

    async def price_lines(self, *, store_id: str, lines: list[CartLine]) -> PricedLines:
        data = await call_subgraph(
            settings=self.settings,
            peers=self.peers,
            name="menu",
            query=PRICE_LINES,
            variables={"storeId": store_id, "lines": [line.to_variables() for line in lines]},
            authorization=self.authorization,
        )
        priced = data["priceLines"]
        return PricedLines(
            subtotal=priced["subtotal"]["amount"],
            currency=priced["subtotal"]["currency"],
            lines=[
                PricedLine(
                    index=line["index"],
                    variant_id=line["variantId"],
                    product_id=line["productId"],
                    product_name=line["productName"],
                    variant_name=line["variantName"],
                    category_code=line["categoryCode"],
                    size=line.get("size"),
                    quantity=line["quantity"],
                    unit_price=line["unitPrice"]["amount"],
                    line_total=line["lineTotal"]["amount"],
                    description=line["description"],
                    currency=line["lineTotal"]["currency"],
                )
                for line in priced["lines"]
            ],
        )

    async def delivery_quote(
        self,
        *,
        store_id: str,
        service_method: str,
        location: tuple[float, float] | None,
        at: datetime | None = None,
    ) -> DeliveryQuote:
        variables: dict[str, Any] = {"storeId": store_id, "serviceMethod": service_method}
        if location is not None:
            variables["location"] = {"lat": location[0], "lng": location[1]}
        if at is not None:
            variables["at"] = at.isoformat()
        data = await call_subgraph(
            settings=self.settings,
            peers=self.peers,
            name="geo",
            query=DELIVERY_QUOTE,
            variables=variables,
            authorization=self.authorization,
        )
        quote = data["deliveryQuote"]
        store = data.get("store") or {}
        wait = quote.get("waitTime") or {}
        return DeliveryQuote(
            store_id=quote["storeId"],
            can_serve=quote["canServe"],
            reason=quote.get("reason"),
            reason_code=quote.get("reasonCode"),
            is_open=quote["isOpen"],
            distance_meters=quote.get("distanceMeters"),
            delivery_fee=quote["deliveryFee"]["amount"],
            minimum_order=quote["minimumOrder"]["amount"],
            currency=quote["deliveryFee"]["currency"],
            tax_rate_basis_points=quote["taxRateBasisPoints"],
            wait_min_minutes=wait.get("minMinutes", 0),
            wait_max_minutes=wait.get("maxMinutes", 0),
            time_zone=quote.get("timeZone") or "UTC",
            tipping_allowed=bool(store.get("tippingAllowed", True)),
            payment_methods=tuple(store["acceptedPaymentMethods"])
            if store.get("acceptedPaymentMethods") is not None
            else None,
        )

    async def quote_coupons(
        self,
        *,
        store_id: str,
        service_method: str,
        codes: list[str],
        lines: list[CartLine],
        at: datetime,
    ) -> list[coupons.AppliedCoupon]:
        return await coupons.quote_via_menu(
            settings=self.settings,
            peers=self.peers,
            authorization=self.authorization,
            store_id=store_id,
            service_method=service_method,
            codes=codes,
            lines=lines,
            at=at,
        )
